// Archiver throughput, size and memory, for each Parquet writer (parquetjs-lite, hyparquet-writer):
// the `archiver` topology (run by bin/run-topology in a child process) draining a pre-filled topic,
// against a bare loop of the same writer writing the same files (same rows, partitions, offsets,
// hours, row groups and compression) in a child process of its own; Parquet bytes per row against
// the same rows as gzip-compressed CSV; the peak RSS (VmHWM) of both. Run it at two sizes to see
// whether memory stays flat.
// Usage: eval "$(bin/stack env)"; bin/node bench/archiver.ts [rows=100000]
// The archiver runs as bin/run-topology runs it: SLUICE_HEAP_MB=N caps its main thread's old generation,
// ARCHIVE_WORKER_HEAP_MB=N (default 256) its Parquet writer thread's.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { loadConfig } from '../core/config.ts';
import { connectionSchema } from '../infra/stack/connections.ts';
import { createS3Client } from '../sinks/s3/client.ts';
import { parquetFormat, type Reading } from '../sinks/archive/file-format.ts';
import { hyparquetFormat } from '../sinks/archive/hyparquet-format.ts';
import { hourOf } from '../sinks/archive/layout.ts';
import { benchLock, inChild, prefill } from './lib.ts';

benchLock('archiver');

type Writer = 'parquetjs-lite' | 'hyparquet-writer';
interface Files { seconds: number; bytes: number; files: string[]; peakMiB: number }

const maxRows = 500_000;
const rowGroupSize = 100_000; // the archiver's default (ARCHIVE_ROW_GROUP_ROWS)
const partitions = 3;
/** The last file of each partition closes by the idle timeout: this wait is subtracted from the time. */
const idleMs = 1000;
const root = join(import.meta.dirname, '..');

const t0 = Date.UTC(2026, 10, 20);
const row = (i: number): Reading => ({
  device_id: `dev-${i % 1000}`, sensor_type: ['temperature', 'humidity', 'pressure', 'co2'][i % 4]!, value: Math.round(200 + 100 * Math.sin(i / 1000)) / 10,
  unit: ['°C', '%', 'hPa', 'ppm'][i % 4]!, time: t0 + i * 10, ingest_time: t0 + i * 10 + 150,
});
const peakMiB = (pid: number | 'self') => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/**
 * The bare writer loop, run in a child process of its own: the files the archiver writes, from the
 * same rows (each row to the partition the producer chose for its key, at the offset it got there),
 * closed where the archiver closes them (a later event-time hour, `maxRows`).
 */
async function bareLoop(writer: Writer, n: number): Promise<Files> {
  const opts = { compression: 'GZIP' as const, rowGroupSize };
  const format = writer === 'hyparquet-writer' ? hyparquetFormat(opts) : parquetFormat(opts);
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({ partitionId: p, partitionErrorCode: 0, leader: 0, replicas: [0], isr: [0] }));
  const rowsOf: number[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; i < n; i++) rowsOf[partitioner({ topic: 'bench', partitionMetadata, message: { key: row(i).device_id, value: null } })]!.push(i);
  const files: string[] = [];
  let bytes = 0;
  const start = performance.now();
  for (let p = 0; p < partitions; p++) {
    const rows = rowsOf[p]!;
    for (let first = 0; first < rows.length;) {
      const w = await format.open();
      const hour = hourOf(row(rows[first]!).time);
      let end = first;
      for (; end < rows.length && end - first < maxRows; end++) {
        const r = row(rows[end]!);
        if (hourOf(r.time) > hour) break;
        await w.append({ partition: p, offset: BigInt(end), reading: r });
      }
      const size = (await w.finish()).length;
      files.push(`${p}-${first}-${end - 1}.parquet ${size}`);
      bytes += size;
      first = end;
    }
  }
  return { seconds: (performance.now() - start) / 1000, bytes, files: files.sort(), peakMiB: peakMiB('self') };
}

/** The archiver in a child process: rate from its own log, from its first rows to the last file archived (less the idle wait). */
async function archiver(writer: Writer, run: string, id: string, n: number): Promise<Files> {
  const conn = loadConfig(connectionSchema);
  const prefix = `${id}/${writer}`;
  const child = spawn(join(root, 'bin', 'run-topology'), [`${id}-archiver-${run}`, '--topologies', join(root, 'sinks/archive/testdata/topologies.ts')], {
    env: { ...process.env, SLUICE_TEST_ID: id, SLUICE_OPS_PORT: '0', ARCHIVE_PREFIX: prefix, ARCHIVE_WRITER: writer, ARCHIVE_IDLE_MS: String(idleMs), ARCHIVE_MAX_ROWS: String(maxRows), ARCHIVE_ROW_GROUP_ROWS: String(rowGroupSize) },
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
  const peak = peakMiB(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  // The clock starts when the sink has its first rows (it logs where each partition resumes), not at
  // the group join: the bare loop's clock does not include its setup either.
  const first = Date.parse(lines.find((l) => l.msg === 'archive resumes')!.time);
  const lastArchived = Date.parse(lines.filter((l) => l.msg === 'archived').at(-1)!.time);
  const s3 = createS3Client(conn);
  const files: string[] = [];
  let bytes = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: conn.S3_BUCKET, Prefix: `${prefix}/date=`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      bytes += o.Size ?? 0;
      files.push(`${o.Key!.split('/').at(-1)} ${o.Size}`);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  s3.destroy();
  return { seconds: (lastArchived - first - idleMs) / 1000, bytes, files: files.sort(), peakMiB: peak };
}

/** The same rows as CSV (ISO times, as psql \copy writes them), gzip-compressed: its size. */
function gzipCsvBytes(n: number): number {
  const csv = ['time,device_id,sensor_type,value,unit,ingest_time'];
  for (let i = 0; i < n; i++) {
    const r = row(i);
    csv.push(`${new Date(r.time).toISOString()},${r.device_id},${r.sensor_type},${r.value},${r.unit},${new Date(r.ingest_time).toISOString()}`);
  }
  return gzipSync(csv.join('\n')).length;
}

async function main(n: number) {
  const conn = loadConfig(connectionSchema);
  const admin = new Kafka({ brokers: conn.KAFKA_BROKERS, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  const id = `bench-${Date.now()}`;
  const input = `${id}.in`;
  await prefill(input, n, row, {}, partitions);
  console.log(`pre-filled ${input} with ${n} rows`);
  const csvBytes = gzipCsvBytes(n);
  const rate = (seconds: number) => `${(n / seconds).toFixed(0).padStart(8)} rows/s (${seconds.toFixed(2)} s)`;
  console.log(`rows: ${n}; gzip CSV ${(csvBytes / n).toFixed(2)} bytes/row${process.env.SLUICE_HEAP_MB ? `; SLUICE_HEAP_MB=${process.env.SLUICE_HEAP_MB}` : ''}${process.env.ARCHIVE_WORKER_HEAP_MB ? `; ARCHIVE_WORKER_HEAP_MB=${process.env.ARCHIVE_WORKER_HEAP_MB}` : ''}`);
  for (const [run, writer] of [['a', 'parquetjs-lite'], ['b', 'hyparquet-writer']] as const) {
    const bare = inChild<Files>(import.meta.filename, 'bare', writer, String(n));
    const arc = await archiver(writer, run, id, n);
    const same = arc.files.join('\n') === bare.files.join('\n');
    console.log(`-- ${writer}`);
    console.log(`  bare writer loop      : ${rate(bare.seconds)} the same ${bare.files.length} files, in memory; peak RSS ${bare.peakMiB.toFixed(0)} MiB`);
    console.log(`  archiver topology     : ${rate(arc.seconds)} Kafka → Avro → Parquet → S3, ${arc.files.length} files, offsets committed`);
    console.log(`  ratio archiver/bare   : ${(bare.seconds / arc.seconds).toFixed(2)} (target >= 0.80)`);
    console.log(`  bytes/row             : ${(arc.bytes / n).toFixed(2)}; vs gzip CSV ${(arc.bytes / csvBytes).toFixed(2)} (target <= 1.20); files ${same ? 'of the same names and sizes as' : 'DIFFERENT from'} the bare loop's`);
    console.log(`  archiver peak RSS     : ${arc.peakMiB.toFixed(0)} MiB`);
  }
  await admin.deleteTopics({ topics: [input] });
  await admin.disconnect();
}

if (process.argv[2] === 'bare') console.log(JSON.stringify(await bareLoop(process.argv[3] as Writer, Number(process.argv[4]))));
else await main(Number(process.argv[2] ?? 100_000));
