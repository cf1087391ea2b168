// The shipped stateful topologies, alerting and hourly-aggregates, draining a pre-filled topic, against
// the pass-through topology on the same topic in the same run (target >= 0.8x), each in its own process
// (peak RSS is that topology's). Their tables go to the database `sluice_bench` on TIMESCALE_URL's server.
// Usage: eval "$(bin/stack env)"; bin/node bench/topologies.ts [records=200000] [devices=1000]
import pg from 'pg';
import { alertingTopology } from '../topologies/alerting.ts';
import { hourlyAggregatesTopology } from '../topologies/hourly-aggregates.ts';
import { ensureSchema } from '../sinks/timescale/schema.ts';
import type { Reading } from '../schemas/records.ts';
import { benchLock, drain, inChild, passthrough, prefill, row, type CaseResult } from './lib.ts';

benchLock('topologies');

const T0 = Date.UTC(2026, 10, 20);
const benchDb = () => {
  const u = new URL(process.env.TIMESCALE_URL ?? 'postgres://postgres@127.0.0.1:5432/sluice');
  u.pathname = '/sluice_bench';
  return u.toString();
};
// A day of readings from `devices` devices, two sensors each; every 500th temperature is a spike.
const reading = (i: number, n: number, devices: number): Reading => {
  const time = T0 + Math.floor((i * 86_400_000) / n);
  const sensor = i % 2 ? 'humidity' : 'temperature';
  const value = sensor === 'temperature' ? (i % 500 === 0 ? 45 : 22 + (i % 7) / 2) : 40 + (i % 11);
  return { device_id: `dev-${Math.floor(i / 2) % devices}`, sensor_type: sensor, value, unit: '', time, ingest_time: time };
};

const [mode, kind, input, n] = process.argv.slice(2);
if (mode === 'run') {
  const env = { ...process.env, TIMESCALE_URL: benchDb(), HOURLY_IDLE_MS: '0' };
  const name = `${input!.replace(/\.in$/, '')}-${kind}`;
  const topology = kind === 'alerting' ? alertingTopology({ name, topic: input, alertsTopic: `${input}.alerts` }, env)
    : kind === 'hourly' ? hourlyAggregatesTopology({ name, topic: input, statsTopic: `${input}.stats` }, env)
    : passthrough(name, input!);
  process.env.TIMESCALE_URL = env.TIMESCALE_URL; // the sinks read it when they start
  await drain(topology, Number(n));
} else {
  const [records, devices] = [Number(process.argv[2] ?? 200_000), Number(process.argv[3] ?? 1000)];
  const admin = new pg.Client({ connectionString: process.env.TIMESCALE_URL });
  await admin.connect();
  if ((await admin.query("SELECT 1 FROM pg_database WHERE datname = 'sluice_bench'")).rowCount === 0) await admin.query('CREATE DATABASE sluice_bench');
  await admin.end();
  const db = new pg.Client({ connectionString: benchDb() });
  await db.connect();
  await ensureSchema(db);
  await db.query('TRUNCATE sensor_stats_hourly, alerts');
  await db.end();

  const topic = `bench-topo-${Date.now()}.in`;
  await prefill(topic, records, (i) => reading(i, records, devices), {
    [`${topic}.copy`]: 'sensor-readings', [`${topic}.alerts`]: 'alerts', [`${topic}.stats`]: 'sensor-stats-hourly',
  });
  console.log(`pre-filled ${topic}: ${records} readings of ${devices} devices over one day`);
  const results: Record<string, CaseResult> = {};
  for (const k of ['passthrough', 'alerting', 'hourly']) row(k, (results[k] = inChild(import.meta.filename, 'run', k, topic, String(records))));
  for (const k of ['alerting', 'hourly']) console.log(`ratio ${k}/pass-through: ${(results[k]!.rate / results.passthrough!.rate).toFixed(2)} (target >= 0.80)`);
}
