// TimescaleDB / PostgreSQL sink throughput: the timescale-sink topology draining a pre-filled topic
// (COPY, offsets in the same transaction) against `psql \copy` of the same rows into the same table
// and indexes, and against a per-row INSERT loop (measured on a sample, extrapolated), in one run.
// The sink runs in its own process, as `bin/run-topology` runs it; psql and the sink take turns
// `rounds` times on an emptied table, and the median of each is compared.
// Usage: eval "$(bin/stack env)"; bin/node bench/timescale-sink.ts [records=1000000] [insertSample=5000] [rounds=3]
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { timescaleSinkTopology } from '../topologies/timescale-sink.ts';
import type { Reading } from '../schemas/records.ts';
import { COPY_HEADER, COPY_TRAILER, CopyRows } from '../sinks/timescale/encode.ts';
import { sensorData } from '../sinks/timescale/table.ts';
import { createTestDb, withClient } from '../sinks/timescale/testdata/db.ts';
import { benchLock, benchConfig, drain, inChild, median, prefill, type CaseResult } from './lib.ts';

benchLock('timescale-sink');

if (process.argv[2] === 'sink') {
  // The child: the sink topology as the writer role, timed until the group committed every record
  // (the sink commits to Kafka after the database commit).
  const [, , , name, input, url, n] = process.argv;
  process.env.TIMESCALE_URL = url;
  await drain(timescaleSinkTopology({ name: name!, topic: input! }), Number(n));
  process.exit(0);
}

const n = Number(process.argv[2] ?? 1_000_000);
const sample = Math.min(n, Number(process.argv[3] ?? 5000));
const rounds = Number(process.argv[4] ?? 3);
const cfg = benchConfig();
const db = await createTestDb(process.env.TIMESCALE_URL);
const id = `bench-ts-${Date.now()}`;
const input = `${id}.in`;
const t0 = Date.UTC(2026, 10, 1);
const reading = (i: number): Reading => ({
  device_id: `dev-${i % 1000}`, sensor_type: i % 3 ? 'temperature' : 'humidity', value: 20 + (i % 100) / 10, unit: '°C', time: t0 + Math.floor(i / 1000) * 1000, ingest_time: t0 + i,
});
const fmt = (r: number) => `${r.toFixed(0).padStart(8)} rows/s`;
const truncate = () => withClient(db.url, (c) => c.query('TRUNCATE sensor_data, sluice_sink_offsets'));
const count = () => withClient(db.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM sensor_data')).rows[0].n as number);

// 1. Pre-fill the topic, and a file with the same rows for psql.
const kafka = new Kafka({ brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();
await prefill(input, n, reading);
// psql's input as people write it (COPY text), and the COPY binary data the sink sends, for comparison.
const file = join(tmpdir(), `${id}.tsv`);
const binFile = join(tmpdir(), `${id}.bin`);
const lines: string[] = [];
const rows = new CopyRows();
for (let i = 0; i < n; i++) {
  const r = reading(i);
  lines.push(`${new Date(r.time).toISOString()}\t${r.device_id}\t${r.sensor_type}\t${r.value}\t${r.unit}\n`);
  rows.add(sensorData, r);
}
writeFileSync(file, lines.join(''));
writeFileSync(binFile, Buffer.concat([COPY_HEADER, rows.slice(0, n), COPY_TRAILER]));
lines.length = 0;
console.log(`pre-filled ${input} with ${n} readings; database ${db.name} (sensor_data with its unique index); ${rounds} rounds`);

// 2. Per-row INSERT, awaited, on a sample.
let start = performance.now();
await withClient(db.url, async (c) => {
  for (let i = 0; i < sample; i++) {
    const r = reading(i);
    await c.query('INSERT INTO sensor_data (time, device_id, sensor_type, value, unit) VALUES ($1, $2, $3, $4, $5)', [new Date(r.time), r.device_id, r.sensor_type, r.value, r.unit]);
  }
});
const insertRate = sample / ((performance.now() - start) / 1000);

// 3. The ceiling set by reading the topic: a bare kafkajs consumer that only counts (Avro not even decoded).
const bare = kafka.consumer({ groupId: `${id}-bare`, maxBytesPerPartition: 512 << 10, maxBytes: 8 << 20 });
await bare.connect();
await bare.subscribe({ topic: input, fromBeginning: true });
let seen = 0;
start = performance.now();
await bare.run({ partitionsConsumedConcurrently: cfg.SLUICE_CONCURRENCY, eachBatch: async ({ batch }) => void (seen += batch.messages.length) });
while (seen < n) await new Promise((r) => setTimeout(r, 20));
const bareRate = n / ((performance.now() - start) / 1000);
await bare.disconnect();

// 4. psql \copy and the sink take turns on an emptied table.
const psqlRates: number[] = [];
const psqlBinRates: number[] = [];
const sinks: CaseResult[] = [];
const psqlCopy = async (from: string, options: string) => {
  await truncate();
  const begin = performance.now();
  execFileSync('psql', [db.url, '-q', '-c', `\\copy sensor_data (time, device_id, sensor_type, value, unit) FROM '${from}'${options}`]);
  if ((await count()) !== n) throw new Error(`psql \\copy of ${from} did not load ${n} rows`);
  return n / ((performance.now() - begin) / 1000);
};
for (let round = 0; round < rounds; round++) {
  psqlRates.push(await psqlCopy(file, ''));
  psqlBinRates.push(await psqlCopy(binFile, ' (FORMAT binary)'));
  await truncate();
  sinks.push(inChild(import.meta.filename, 'sink', `${id}-sink-${round}`, input, db.writerUrl, String(n)));
  const loaded = await count();
  if (loaded !== n) throw new Error(`round ${round}: the sink loaded ${loaded} rows, expected ${n}`);
  console.log(`round ${round + 1}: psql \\copy ${fmt(psqlRates.at(-1)!)}, psql \\copy binary ${fmt(psqlBinRates.at(-1)!)}, timescale-sink ${fmt(sinks.at(-1)!.rate)}`);
}
rmSync(file);
rmSync(binFile);

const [psqlRate, sinkRate] = [median(psqlRates), median(sinks.map((s) => s.rate))];
console.log(`psql \\copy (median)   : ${fmt(psqlRate)} (COPY text)`);
console.log(`psql \\copy binary     : ${fmt(median(psqlBinRates))} (the COPY binary data the sink sends)`);
console.log(`timescale-sink (median): ${fmt(sinkRate)} (${n} rows loaded in each round)`);
console.log(`per-row INSERT         : ${fmt(insertRate)} (a sample of ${sample}; ~${(n / insertRate).toFixed(0)} s for ${n}, extrapolated)`);
console.log(`kafkajs read only      : ${fmt(bareRate)} (the Kafka side alone, no decode, no database)`);
console.log(`ratio sink/psql copy   : ${(sinkRate / psqlRate).toFixed(2)} (target >= 0.70, stretch 0.85)`);
console.log(`ratio sink/psql binary : ${(sinkRate / median(psqlBinRates)).toFixed(2)}`);
console.log(`ratio sink/INSERT      : ${(sinkRate / insertRate).toFixed(1)} (target >= 30)`);
console.log(`peak RSS of the sink   : ${Math.max(...sinks.map((s) => s.rssMiB)).toFixed(0)} MiB (whole process)`);
await admin.deleteTopics({ topics: [input] });
await admin.disconnect();
await db.drop();
