// Archiver throughput, size and memory, for each Parquet writer (parquetjs-lite, hyparquet-writer):
// the `archiver` topology (run by bin/run-topology in a child process) draining a pre-filled topic,
// against a bare loop of the same writer over the same rows in this process; Parquet bytes per row against the same rows as gzip-compressed CSV; the child's
// peak RSS (VmHWM). Run it at two sizes to see whether memory stays flat.
// Usage: eval "$(bin/stack env)"; bin/node bench/archiver.ts [rows=100000]
// BENCH_HEAP_MB=N caps the archiver's V8 heap (--max-old-space-size): it still finishes when its memory is bounded.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Kafka, logLevel } from 'kafkajs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { connectionSchema, loadConfig } from '../core/config.ts';
import { createS3Client } from '../sinks/s3/client.ts';
import { parquetFormat, type Reading } from '../sinks/archive/format.ts';
import { hyparquetFormat } from '../sinks/archive/hyparquetFormat.ts';
import { prefill } from './lib.ts';

type Writer = 'parquetjs-lite' | 'hyparquet-writer';

const n = Number(process.argv[2] ?? 100_000);
const maxRows = 500_000;
/** The last file of each partition closes by the idle timeout: this wait is subtracted from the time. */
const idleMs = 1000;
const heapCap = process.env.BENCH_HEAP_MB ? `--max-old-space-size=${process.env.BENCH_HEAP_MB}` : (process.env.NODE_OPTIONS ?? '');
const root = join(import.meta.dirname, '..');
const conn = loadConfig(connectionSchema);
const kafka = new Kafka({ brokers: conn.KAFKA_BROKERS, logLevel: logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();
const id = `bench-${Date.now()}`;
const input = `${id}.in`;

const t0 = Date.UTC(2026, 10, 20);
const row = (i: number): Reading => ({
  device_id: `dev-${i % 1000}`, sensor_type: ['temperature', 'humidity', 'pressure', 'co2'][i % 4]!, value: Math.round(200 + 100 * Math.sin(i / 1000)) / 10,
  unit: ['°C', '%', 'hPa', 'ppm'][i % 4]!, time: t0 + i * 10, ingest_time: t0 + i * 10 + 150,
});
await prefill(input, n, row, {}, 3);
console.log(`pre-filled ${input} with ${n} rows`);

/** The bare writer loop: files of at most maxRows rows, same compression and row groups. */
async function bareLoop(writer: Writer): Promise<{ seconds: number; bytes: number }> {
  const opts = { compression: 'GZIP' as const, rowGroupSize: 100_000 };
  const format = writer === 'hyparquet-writer' ? hyparquetFormat(opts) : parquetFormat(opts);
  const start = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i += maxRows) {
    const w = await format.open();
    for (let j = i; j < Math.min(n, i + maxRows); j++) await w.append({ partition: 0, offset: BigInt(j), reading: row(j) });
    bytes += (await w.finish()).length;
  }
  return { seconds: (performance.now() - start) / 1000, bytes };
}

/** The archiver in a child process: rate from its own log, from partition assignment to the last file archived (less the idle wait). */
async function archiver(writer: Writer, run: string): Promise<{ seconds: number; bytes: number; files: number; peakMiB: number }> {
  const prefix = `${id}/${writer}`;
  const child = spawn(join(root, 'bin', 'run-topology'), [`${id}-archiver-${run}`, '--topologies', join(root, 'sinks/archive/testdata/topologies.ts')], {
    env: { ...process.env, NODE_OPTIONS: heapCap, SLUICE_TEST_ID: id, SLUICE_OPS_PORT: '0', ARCHIVE_PREFIX: prefix, ARCHIVE_WRITER: writer, ARCHIVE_IDLE_MS: String(idleMs), ARCHIVE_MAX_ROWS: String(maxRows) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: { msg: string; time: string; rows?: number }[] = [];
  let buffered = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const l of parts) lines.push(JSON.parse(l) as { msg: string; time: string; rows?: number });
  });
  const archivedRows = () => lines.filter((l) => l.msg === 'archived').reduce((s, l) => s + (l.rows ?? 0), 0);
  while (archivedRows() < n) {
    if (child.exitCode !== null) throw new Error('the archiver exited');
    await new Promise((r) => setTimeout(r, 100));
  }
  const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const assigned = Date.parse(lines.find((l) => l.msg === 'partitions assigned')!.time);
  const lastArchived = Date.parse(lines.filter((l) => l.msg === 'archived').at(-1)!.time);
  let bytes = 0;
  let files = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: conn.S3_BUCKET, Prefix: `${prefix}/date=`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      bytes += o.Size ?? 0;
      files += 1;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { seconds: (lastArchived - assigned - idleMs) / 1000, bytes, files, peakMiB: peakKiB / 1024 };
}

// The same rows as CSV (ISO times, as psql \copy writes them), gzip-compressed.
const csv = ['time,device_id,sensor_type,value,unit,ingest_time'];
for (let i = 0; i < n; i++) {
  const r = row(i);
  csv.push(`${new Date(r.time).toISOString()},${r.device_id},${r.sensor_type},${r.value},${r.unit},${new Date(r.ingest_time).toISOString()}`);
}

const csvBytes = gzipSync(csv.join('\n')).length;
const s3 = createS3Client(conn);
const rate = (seconds: number) => `${(n / seconds).toFixed(0).padStart(8)} rows/s (${seconds.toFixed(2)} s)`;
console.log(`rows: ${n}; gzip CSV ${(csvBytes / n).toFixed(2)} bytes/row${heapCap ? `; archiver ${heapCap}` : ''}`);
for (const [run, writer] of [['a', 'parquetjs-lite'], ['b', 'hyparquet-writer']] as const) {
  const bare = await bareLoop(writer);
  const arc = await archiver(writer, run);
  console.log(`-- ${writer}`);
  console.log(`  bare writer loop      : ${rate(bare.seconds)}`);
  console.log(`  archiver topology     : ${rate(arc.seconds)} Kafka → Avro → Parquet → S3, ${arc.files} files, offsets committed`);
  console.log(`  ratio archiver/bare   : ${(bare.seconds / arc.seconds).toFixed(2)} (target >= 0.80)`);
  console.log(`  bytes/row             : ${(arc.bytes / n).toFixed(2)} archived (bare loop ${(bare.bytes / n).toFixed(2)}); vs gzip CSV ${(arc.bytes / csvBytes).toFixed(2)} (target <= 1.20)`);
  console.log(`  archiver peak RSS     : ${arc.peakMiB.toFixed(0)} MiB`);
}
s3.destroy();
await admin.deleteTopics({ topics: [input] });
await admin.disconnect();
