// TimescaleDB / PostgreSQL sink throughput: the timescale-sink topology draining a pre-filled topic
// (COPY, offsets in the same transaction) against `psql \copy` of the same rows into the same table
// and indexes, and against a per-row INSERT loop (measured on a sample, extrapolated), in one run.
// Usage: eval "$(bin/stack env)"; bin/node bench/timescale-sink.ts [records=200000] [insertSample=5000]
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Kafka, logLevel } from 'kafkajs';
import { startTopology } from '../core/runtime/run.ts';
import { loadConfig } from '../core/config.ts';
import { runtimeSchema } from '../core/runtime/config.ts';
import { timescaleSinkTopology } from '../topologies/timescale-sink.ts';
import type { Reading } from '../topologies/reading.ts';
import { encodeRow } from '../sinks/timescale/encode.ts';
import { sensorData } from '../sinks/timescale/table.ts';
import { createTestDb, withClient } from '../sinks/timescale/testdata/db.ts';
import { prefill } from './lib.ts';

const n = Number(process.argv[2] ?? 200_000);
const sample = Math.min(n, Number(process.argv[3] ?? 5000));
const cfg = loadConfig(runtimeSchema, { ...process.env, SLUICE_OPS_PORT: '0' });
const db = await createTestDb(process.env.TIMESCALE_URL);
const id = `bench-ts-${Date.now()}`;
const input = `${id}.in`;
const t0 = Date.UTC(2026, 10, 1);
const reading = (i: number): Reading => ({
  device_id: `dev-${i % 1000}`, sensor_type: i % 3 ? 'temperature' : 'humidity', value: 20 + (i % 100) / 10, unit: '°C', time: t0 + Math.floor(i / 1000) * 1000, ingest_time: t0 + i,
});
const rowsOf = (r: Reading) => encodeRow(sensorData, { time: r.time, device_id: r.device_id, sensor_type: r.sensor_type, value: r.value, unit: r.unit }).row;
const rate = (rows: number, seconds: number) => rows / seconds;
const fmt = (r: number) => `${r.toFixed(0).padStart(8)} rows/s`;
const truncate = () => withClient(db.url, (c) => c.query('TRUNCATE sensor_data, sluice_sink_offsets'));

// 1. Pre-fill the topic.
const kafka = new Kafka({ brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();
await prefill(input, n, reading);
console.log(`pre-filled ${input} with ${n} readings; database ${db.name} (sensor_data with its unique index)`);

// 2. psql \copy of the same rows.
const file = join(tmpdir(), `${id}.tsv`);
writeFileSync(file, Array.from({ length: n }, (_, i) => rowsOf(reading(i))).join(''));
let start = performance.now();
execFileSync('psql', [db.url, '-q', '-c', `\\copy sensor_data (time, device_id, sensor_type, value, unit) FROM '${file}'`]);
const psqlSeconds = (performance.now() - start) / 1000;
rmSync(file);
await truncate();

// 3. Per-row INSERT, awaited, on a sample.
start = performance.now();
await withClient(db.url, async (c) => {
  for (let i = 0; i < sample; i++) {
    const r = reading(i);
    await c.query('INSERT INTO sensor_data (time, device_id, sensor_type, value, unit) VALUES ($1, $2, $3, $4, $5)', [new Date(r.time), r.device_id, r.sensor_type, r.value, r.unit]);
  }
});
const insertSeconds = (performance.now() - start) / 1000;
await truncate();

// 4. The ceiling set by reading the topic: a bare kafkajs consumer that only counts (Avro not even decoded).
const bare = kafka.consumer({ groupId: `${id}-bare`, maxBytesPerPartition: 512 << 10, maxBytes: 8 << 20 });
await bare.connect();
await bare.subscribe({ topic: input, fromBeginning: true });
let seen = 0;
start = performance.now();
await bare.run({ partitionsConsumedConcurrently: cfg.SLUICE_CONCURRENCY, eachBatch: async ({ batch }) => void (seen += batch.messages.length) });
while (seen < n) await new Promise((r) => setTimeout(r, 20));
const bareSeconds = (performance.now() - start) / 1000;
await bare.disconnect();

// 5. The sink topology, as the writer role, timed from the start of consuming until every offset is stored.
process.env.TIMESCALE_URL = db.writerUrl;
const topology = timescaleSinkTopology({ name: `${id}-sink`, topic: input });
const baseRss = process.memoryUsage.rss(); // includes what the pre-fill and the psql file left behind
let peakRss = baseRss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
const running = await startTopology(topology, cfg, pino({ level: 'warn' }));
start = performance.now();
for (;;) {
  const stored = await withClient(db.url, async (c) => Number((await c.query('SELECT coalesce(sum(next_offset), 0) AS s FROM sluice_sink_offsets')).rows[0].s));
  if (stored >= n) break;
  await new Promise((r) => setTimeout(r, 50));
}
const sinkSeconds = (performance.now() - start) / 1000;
clearInterval(sampler);
await running.stop();
const loaded = await withClient(db.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM sensor_data')).rows[0].n as number);

const [psqlRate, insertRate, sinkRate, bareRate] = [rate(n, psqlSeconds), rate(sample, insertSeconds), rate(n, sinkSeconds), rate(n, bareSeconds)];
console.log(`psql \\copy            : ${fmt(psqlRate)} (${psqlSeconds.toFixed(2)} s for ${n})`);
console.log(`per-row INSERT        : ${fmt(insertRate)} (${insertSeconds.toFixed(2)} s for a sample of ${sample}; ~${(n / insertRate).toFixed(0)} s for ${n}, extrapolated)`);
console.log(`timescale-sink        : ${fmt(sinkRate)} (${sinkSeconds.toFixed(2)} s for ${n}, ${loaded} rows loaded)`);
console.log(`kafkajs read only     : ${fmt(bareRate)} (${bareSeconds.toFixed(2)} s; the Kafka side alone, no decode, no database)`);
console.log(`ratio sink/psql copy  : ${(sinkRate / psqlRate).toFixed(2)} (target >= 0.70, stretch 0.85)`);
console.log(`ratio sink/INSERT     : ${(sinkRate / insertRate).toFixed(1)} (target >= 30)`);
console.log(`peak RSS during sink  : ${(peakRss / 2 ** 20).toFixed(0)} MiB (${((peakRss - baseRss) / 2 ** 20).toFixed(0)} MiB above the ${(baseRss / 2 ** 20).toFixed(0)} MiB this process held before the sink started)`);
await admin.deleteTopics({ topics: [input] });
await admin.disconnect();
await db.drop();
