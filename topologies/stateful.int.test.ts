import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import {
  caughtUp, createTopics, produce, readAll, registerReadings, startInstance, total, untilCaughtUp, waitFor, type Instance,
} from '../core/runtime/testdata/harness.ts';
import { RegistryClient } from '../core/serde/registry.ts';
import { AvroSerde, readSchema } from '../core/serde/avro.ts';
import { valueSubject } from '../core/naming.ts';
import { createTestDb, withClient, type TestDb } from '../sinks/timescale/testdata/db.ts';
import type { Reading } from '../schemas/records.ts';
import type { Alert } from '../schemas/records.ts';

jest.setTimeout(300_000);

const HOUR = 3_600_000;
const id = `tp-${Date.now()}-${randomBytes(2).toString('hex')}`;
const input = `${id}.in`;
const topologiesModule = join(__dirname, 'testdata', 'topologies.ts');
const now = Date.now();
const H = now - (now % HOUR); // readings cover the four hours before the current one
const devices = Array.from({ length: 12 }, (_, d) => `dev-${d}`);

// Every 20 s per device and sensor, plus one at H − 1 s so that every hour can close; dev-0 and dev-1
// overheat from 10 to 20 minutes into the second hour.
const regular: Reading[] = [];
for (let t = H - 4 * HOUR + 10_000; t < H; t += 20_000) {
  for (const [d, device] of devices.entries()) {
    const hot = d < 2 && t >= H - 3 * HOUR + 10 * 60_000 && t < H - 3 * HOUR + 20 * 60_000;
    regular.push({ device_id: device, sensor_type: 'temperature', value: hot ? 40 : 20 + ((t / 20_000 + d) % 7), unit: '°C', time: t + d, ingest_time: t + d });
    regular.push({ device_id: device, sensor_type: 'humidity', value: 40 + (d % 5), unit: '%', time: t + d, ingest_time: t + d });
  }
}
for (const device of devices) regular.push({ device_id: device, sensor_type: 'humidity', value: 41, unit: '%', time: H - 1000, ingest_time: H - 1000 });
// Late: readings of the first hour that arrive after everything else.
const late: Reading[] = devices.slice(0, 3).map((device) => ({ device_id: device, sensor_type: 'temperature', value: 99, unit: '°C', time: H - 4 * HOUR + 1_234, ingest_time: H }));

let db: TestDb;
let serde: AvroSerde<Reading>;
const running: Instance[] = [];
afterEach(() => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
});
afterAll(() => db?.drop());

function start(topology: 'hourly' | 'alerting', label: string, env: Record<string, string> = {}): Instance {
  const inst = startInstance(`${id}-${topology}`, id, label, {
    TIMESCALE_URL: db.writerUrl, TIMESCALE_SCHEMA: 'off', HOURLY_GRACE_MS: '2000', HOURLY_IDLE_MS: '1000', ALERT_CLEAR_AFTER_MS: '60000', ...env,
  }, topologiesModule);
  running.push(inst);
  return inst;
}
async function killedByFault(inst: Instance): Promise<void> {
  expect(await inst.exited).toBeNull(); // SIGKILL from its fault point
  running.splice(running.indexOf(inst), 1);
}
async function stop(inst: Instance): Promise<void> {
  inst.child.kill('SIGTERM');
  expect(await inst.exited).toBe(0);
  running.splice(running.indexOf(inst), 1);
}

/** Rows of sensor_stats_hourly that differ from the same statistics computed from sensor_data (either side missing counts). */
const differences = () => withClient(db.url, async (c) => (await c.query(`
  WITH raw AS (
    SELECT date_bin('1 hour', time, '2000-01-01') AS bucket, device_id, sensor_type, count(*) AS n, sum(value) AS s, min(value) AS lo, max(value) AS hi
    FROM sensor_data GROUP BY 1, 2, 3)
  SELECT count(*)::int AS n FROM raw FULL JOIN sensor_stats_hourly t USING (bucket, device_id, sensor_type)
  WHERE t.count IS DISTINCT FROM raw.n OR t.min_value IS DISTINCT FROM raw.lo OR t.max_value IS DISTINCT FROM raw.hi
     OR t.sum IS NULL OR raw.s IS NULL OR abs(t.sum - raw.s) > 1e-6 OR abs(t.avg_value - raw.s / raw.n) > 1e-9`)).rows[0].n as number);

beforeAll(async () => {
  db = await createTestDb();
  await createTopics([input]);
  serde = await registerReadings(input);
  const registry = new RegistryClient(process.env.SCHEMA_REGISTRY_URL!);
  await registry.register(valueSubject(`${id}.stats`), readSchema('sensor-stats-hourly'));
  await registry.register(valueSubject(`${id}.alerts`), readSchema('alerts'));
  await produce(input, [...regular, ...late].map((r) => ({ key: r.device_id, value: serde.encode(r) })));
  // sensor_data holds the raw readings, as timescale-sink would load them; the late ones come through the repair.
  const rows = regular.map((r) => `${new Date(r.time).toISOString()}\t${r.device_id}\t${r.sensor_type}\t${r.value}\t${r.unit}\n`);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await pipeline(Readable.from([rows.join('')]), client.query(copyFrom('COPY sensor_data (time, device_id, sensor_type, value, unit) FROM STDIN')));
  await client.end();
});

test('hourly-aggregates killed mid-hour and at an hour boundary, then restarted: sensor_stats_hourly equals the recomputation from sensor_data', async () => {
  // The first run writes its changelog after every batch, so that its second write comes mid-stream.
  await killedByFault(start('hourly', 'hourly-1', { SLUICE_FAULT: 'task.flushed:2', SLUICE_COMMIT_INTERVAL_MS: '0' }));
  await killedByFault(start('hourly', 'hourly-2', { SLUICE_FAULT: 'windows.closed:3' }));
  const last = start('hourly', 'hourly-3');
  let seen = {};
  await waitFor('every hour closed and repaired', async () => {
    const rows = await withClient(db.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM sensor_stats_hourly')).rows[0].n as number);
    seen = { rows, caughtUp: await caughtUp(`${id}-hourly`, input), differences: await differences() };
    return rows === devices.length * 2 * 4 && (await caughtUp(`${id}-hourly`, input)) && (await differences()) === 0 ? true : undefined;
  }, 120_000).catch(async (err: Error) => {
    const detail = await withClient(db.url, async (c) => (await c.query(`
      WITH raw AS (SELECT date_bin('1 hour', time, '2000-01-01') AS bucket, device_id, sensor_type, count(*) AS n, max(value) AS hi FROM sensor_data GROUP BY 1, 2, 3)
      SELECT raw.bucket, raw.device_id, raw.sensor_type, raw.n, raw.hi, t.count, t.max_value FROM raw FULL JOIN sensor_stats_hourly t USING (bucket, device_id, sensor_type)
      WHERE t.count IS DISTINCT FROM raw.n`)).rows);
    throw new Error(`${err.message}: last seen ${JSON.stringify(seen)} ${JSON.stringify(detail)}`);
  });
  await stop(last);
  expect(await differences()).toBe(0);
  // The late readings reached sensor_data through the repair, and count in their hour.
  const first = await withClient(db.url, async (c) => (await c.query(
    "SELECT count, max_value FROM sensor_stats_hourly WHERE device_id = 'dev-0' AND sensor_type = 'temperature' AND bucket = $1", [new Date(H - 4 * HOUR)])).rows[0]);
  expect(first).toEqual({ count: '181', max_value: 99 });
  // The topic carries one result per closed hour (a result may be written twice, never two different ones).
  const stats = new Map<string, number>();
  const statsSerde = new AvroSerde<{ device_id: string; sensor_type: string; bucket: number; count: number }>(new RegistryClient(process.env.SCHEMA_REGISTRY_URL!), valueSubject(`${id}.stats`), readSchema('sensor-stats-hourly'));
  await statsSerde.init();
  for (const r of await readAll(`${id}.stats`, Number(await total(`${id}.stats`)))) {
    const v = statsSerde.decode(r.value);
    const k = `${v.device_id}/${v.sensor_type}/${v.bucket}`;
    if (stats.has(k)) expect(stats.get(k)).toBe(v.count);
    stats.set(k, v.count);
  }
  expect(stats.size).toBe(devices.length * 2 * 4);
});

test('alerting killed mid-stream and restarted: one alert per overheating, opened and cleared, none duplicated', async () => {
  await killedByFault(start('alerting', 'alerting-1', { SLUICE_FAULT: 'task.flushed:2', SLUICE_COMMIT_INTERVAL_MS: '0' }));
  const last = start('alerting', 'alerting-2');
  await untilCaughtUp(`${id}-alerting`, input, 120_000);
  await stop(last);
  const rows = await withClient(db.url, async (c) => (await c.query('SELECT id, device_id, opened_at, cleared_at FROM alerts ORDER BY opened_at, device_id')).rows);
  const alert = (d: number, at: number, cleared: boolean) =>
    ({ id: `dev-${d}:temperature:temperature-high:${at}`, device_id: `dev-${d}`, opened_at: new Date(at), cleared_at: cleared ? expect.any(Date) : null });
  const opened = H - 3 * HOUR + 10 * 60_000 + 10_000; // the first hot reading
  expect(rows).toEqual([
    // The late readings (99 °C) are readings too: each opens an alert that nothing clears.
    ...[0, 1, 2].map((d) => alert(d, late[d]!.time, false)),
    ...[0, 1].map((d) => alert(d, opened + d, true)),
  ]);
  const alertSerde = new AvroSerde<Alert>(new RegistryClient(process.env.SCHEMA_REGISTRY_URL!), valueSubject(`${id}.alerts`), readSchema('alerts'));
  await alertSerde.init();
  const sent = (await readAll(`${id}.alerts`, Number(await total(`${id}.alerts`)))).map((r) => alertSerde.decode(r.value));
  expect(new Set(sent.map((a) => a.id)).size).toBe(5);
  expect(sent.filter((a) => a.cleared_at !== null).map((a) => a.device_id).sort()).toEqual(expect.arrayContaining(['dev-0', 'dev-1']));
});
