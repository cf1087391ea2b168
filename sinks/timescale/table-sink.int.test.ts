import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { DLQ_TOPIC } from '../../core/naming.ts';
import { DLQ_HEADERS } from '../../core/runtime/dlq.ts';
import {
  caughtUp, createTopics, kafka, produce, readAll, registerReadings, startInstance, total, waitFor, type Instance,
} from '../../core/runtime/testdata/harness.ts';
import type { AvroSerde } from '../../core/serde/avro.ts';
import type { Reading } from '../../schemas/records.ts';
import { createTestDb, withClient, type TestDb } from './testdata/db.ts';
import { startPrivatePostgres, type PrivatePostgres } from './testdata/private-postgres.ts';

jest.setTimeout(180_000);

const topologiesModule = join(__dirname, 'testdata', 'topologies.ts');
const running: Instance[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  id: string;
  input: string;
  db: TestDb;
  serde: AvroSerde<Reading>;
}
async function setup(partitions: number, db?: TestDb): Promise<Setup> {
  const id = `ts-${Date.now()}-${randomBytes(2).toString('hex')}`;
  const input = `${id}.in`;
  await createTopics([input], partitions);
  const serde = await registerReadings(input);
  const testDb = db ?? (await createTestDb());
  if (!db) cleanups.push(() => testDb.drop());
  return { id, input, db: testDb, serde };
}
function start(s: Setup, topology: 'tsdb' | 'nokey' | 'both', label: string, env: Record<string, string> = {}): Instance {
  const inst = startInstance(`${s.id}-${topology}`, s.id, label, { TIMESCALE_URL: s.db.writerUrl, SLUICE_PARTITIONS: '3', ...env }, topologiesModule);
  running.push(inst);
  return inst;
}
async function exitOf(inst: Instance, signal?: NodeJS.Signals): Promise<number | null> {
  if (signal) inst.child.kill(signal);
  const code = await inst.exited;
  running.splice(running.indexOf(inst), 1);
  return code;
}
const logOf = (i: Instance) => readFileSync(i.log, 'utf8');
const opsPort = (i: Instance) => JSON.parse(logOf(i).split('\n').find((l) => l.includes('"msg":"started"'))!).opsPort as number;

const reading = (i: number): Reading => ({
  device_id: `dev-${i % 40}`, sensor_type: i % 2 ? 'humidity' : 'temperature', value: i / 10, unit: '°C', time: Date.UTC(2026, 10, 1) + i * 1000, ingest_time: Date.UTC(2026, 10, 1) + i * 1000,
});
const messages = (s: Setup, from: number, n: number) =>
  Array.from({ length: n }, (_, k) => ({ key: reading(from + k).device_id, value: s.serde.encode(reading(from + k)) }));

async function counts(url: string, table: string) {
  return withClient(url, async (c) => {
    // The table name is one of this file's two literals.
    const r = await c.query(`SELECT count(*)::int AS n, count(DISTINCT (device_id, sensor_type, time))::int AS distinct_n FROM ${table}`);
    return r.rows[0] as { n: number; distinct_n: number };
  });
}
async function committed(groupId: string, topic: string): Promise<bigint> {
  const admin = kafka.admin();
  await admin.connect();
  const [row] = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  return (row?.partitions ?? []).reduce((sum, p) => sum + (Number(p.offset) >= 0 ? BigInt(p.offset) : 0n), 0n);
}
async function untilLoaded(s: Setup, table: string, topology: string, n: number) {
  await waitFor(`${n} rows in ${table} and the group caught up`, async () =>
    (await counts(s.db.url, table)).n >= n && (await caughtUp(`${s.id}-${topology}`, s.input)) ? true : undefined, 120_000);
}

// The kill tests load a table without a unique key: a row written twice would stay twice, so only the
// offsets stored with the rows can make the count come out right.
test.each([
  ['during a COPY', 'timescale.copy:2'],
  ['after the database commit, before the Kafka commit', 'runtime.before-commit:2'],
])('killed with SIGKILL %s and restarted, the sink stores every reading exactly once', async (_when, fault) => {
  // One partition of ~5 fetched batches: the second batch is the one killed, whatever the timing.
  const s = await setup(1);
  const n = 40_000;
  await produce(s.input, messages(s, 0, n));

  const first = start(s, 'nokey', 'killed', { SLUICE_FAULT: fault });
  expect(await exitOf(first)).toBe(null); // killed by the signal
  const atKill = await counts(s.db.url, 'sensor_data_nokey');
  expect(atKill.n).toBeLessThan(n);
  if (fault.startsWith('runtime')) {
    // The situation under test: the database holds rows whose Kafka offsets were never committed.
    const stored = await withClient(s.db.url, async (c) => BigInt((await c.query('SELECT coalesce(sum(next_offset), 0)::text AS s FROM sluice_sink_offsets')).rows[0].s));
    expect(stored).toBeGreaterThan(await committed(`${s.id}-nokey`, s.input));
    expect(BigInt(atKill.n)).toBe(stored);
  }

  const second = start(s, 'nokey', 'restarted');
  await untilLoaded(s, 'sensor_data_nokey', 'nokey', n);
  expect(await exitOf(second, 'SIGTERM')).toBe(0);
  expect(await counts(s.db.url, 'sensor_data_nokey')).toEqual({ n, distinct_n: n });
});

test('dead letters of a batch are durable before its database commit: a kill right after it loses none', async () => {
  const s = await setup(1);
  const refused: Reading = { ...reading(1), device_id: 'nul\u0000byte' };
  // Both bad records lead the first fetched batch: one the database refuses, one that is not Avro.
  await produce(s.input, [{ key: 'bad', value: s.serde.encode(refused) }, { key: 'bad', value: Buffer.from('not avro') }, ...messages(s, 0, 2000)]);
  const dlqOf = async () => (await readAll(DLQ_TOPIC, Number(await total(DLQ_TOPIC)))).filter((r) => r.headers[DLQ_HEADERS.topic] === s.input);

  const first = start(s, 'tsdb', 'killed', { SLUICE_FAULT: 'timescale.committed:1' });
  expect(await exitOf(first)).toBe(null); // killed after the first commit, before the Kafka commit
  expect((await counts(s.db.url, 'sensor_data')).n).toBeGreaterThan(0);
  expect(new Set((await dlqOf()).map((r) => r.headers[DLQ_HEADERS.reason]))).toEqual(new Set(['rejected', 'bad-magic']));

  const second = start(s, 'tsdb', 'restarted');
  await untilLoaded(s, 'sensor_data', 'tsdb', 2000);
  expect(await exitOf(second, 'SIGTERM')).toBe(0);
  expect(await counts(s.db.url, 'sensor_data')).toEqual({ n: 2000, distinct_n: 2000 });
  // The restart skips the stored batch; a dead letter may come twice, never not at all.
  expect(new Set((await dlqOf()).map((r) => r.headers[DLQ_HEADERS.reason]))).toEqual(new Set(['rejected', 'bad-magic']));
});

test('on assignment the sink resumes from the offsets stored in the database, not from Kafka\'s', async () => {
  const s = await setup(1);
  await produce(s.input, messages(s, 0, 3000));
  // As if the group's Kafka offsets had been lost (expired, reset) after 1000 readings were loaded.
  await withClient(s.db.url, (c) => c.query(
    "INSERT INTO sluice_sink_offsets (consumer_group, target_table, topic, partition, next_offset) VALUES ($1, 'sensor_data_nokey', $2, 0, 1000)", [`${s.id}-nokey`, s.input]));
  const inst = start(s, 'nokey', 'resume');
  await untilLoaded(s, 'sensor_data_nokey', 'nokey', 2000);
  expect(await exitOf(inst, 'SIGTERM')).toBe(0);
  const rows = await withClient(s.db.url, async (c) => (await c.query('SELECT count(*)::int AS n, min(time) AS first FROM sensor_data_nokey')).rows[0]);
  expect(rows).toEqual({ n: 2000, first: new Date(reading(1000).time) });
});

test('beside a sink that keeps no offsets, the database\'s offset spares only the database: the other sink still gets the records below it', async () => {
  const s = await setup(1);
  await registerReadings(`${s.id}.copy`);
  await produce(s.input, messages(s, 0, 3000));
  // The database holds readings up to offset 1000 and the group never committed to Kafka (a crash between the two commits).
  await withClient(s.db.url, (c) => c.query(
    "INSERT INTO sluice_sink_offsets (consumer_group, target_table, topic, partition, next_offset) VALUES ($1, 'sensor_data_nokey', $2, 0, 1000)", [`${s.id}-both`, s.input]));
  const inst = start(s, 'both', 'both');
  await untilLoaded(s, 'sensor_data_nokey', 'both', 2000);
  expect(await exitOf(inst, 'SIGTERM')).toBe(0);
  expect((await counts(s.db.url, 'sensor_data_nokey')).n).toBe(2000);
  const copied = await readAll(`${s.id}.copy`, 3000);
  expect(new Set(copied.map((r) => s.serde.decode(r.value).time)).size).toBe(3000);
});

test('redelivered readings are stored once; rejected rows go to the DLQ with the reason; text survives COPY escaping', async () => {
  const s = await setup(1);
  const tricky = ['tab\there', 'new\nline', 'back\\slash', 'cr\rlf', '\\N', 'quote"\'', 'ünï€ode'];
  const special: Reading[] = tricky.map((d, k) => ({ ...reading(100_000 + k), device_id: d }));
  const bad: Record<string, Reading> = {
    'time-out-of-range': { ...reading(1), time: -8.64e15 },
    'nul-byte': { ...reading(2), device_id: 'nul\u0000byte' },
  };
  const enc = (r: Reading) => ({ key: r.device_id, value: s.serde.encode(r) });
  // Repeats inside one batch, and across batches (the second produce repeats readings of the first).
  await produce(s.input, [...messages(s, 0, 5000), ...messages(s, 0, 100), ...special.map(enc), enc(bad['time-out-of-range']!), ...messages(s, 5000, 5000)]);
  const inst = start(s, 'tsdb', 'dedupe');
  await untilLoaded(s, 'sensor_data', 'tsdb', 10_000 + special.length);
  await produce(s.input, [...messages(s, 4000, 2000), enc(bad['nul-byte']!), ...messages(s, 10_000, 1000)]);
  await untilLoaded(s, 'sensor_data', 'tsdb', 11_000 + special.length);

  expect(await counts(s.db.url, 'sensor_data')).toEqual({ n: 11_000 + special.length, distinct_n: 11_000 + special.length });
  const stored = await withClient(s.db.url, async (c) =>
    (await c.query('SELECT device_id FROM sensor_data WHERE time >= $1 ORDER BY time', [new Date(special[0]!.time)])).rows.map((r) => r.device_id));
  expect(stored).toEqual(tricky);

  const ready = await fetch(`http://127.0.0.1:${opsPort(inst)}/ready`);
  expect(((await ready.json()) as { checks: object }).checks).toEqual({ kafka: true, 'schema-registry': true, 'sink:db': true });
  expect(await exitOf(inst, 'SIGTERM')).toBe(0);

  const dlq = (await readAll(DLQ_TOPIC, Number(await total(DLQ_TOPIC)))).filter((r) => r.headers[DLQ_HEADERS.topic] === s.input);
  // An event time out of range never reaches the database: the runtime quarantines it (reason
  // timestamp, the original Avro bytes); rows the database refuses come as JSON (reason rejected).
  const deviceOf = (r: { value: Buffer | null; headers: Record<string, string> }) =>
    (r.headers[DLQ_HEADERS.reason] === 'timestamp' ? s.serde.decode(r.value) : JSON.parse(r.value!.toString())).device_id as string;
  const got = Object.fromEntries(dlq.map((r) => [deviceOf(r), r.headers]));
  expect(Object.keys(got).sort()).toEqual(['dev-1', 'nul\u0000byte']);
  expect(got['dev-1']![DLQ_HEADERS.reason]).toBe('timestamp');
  expect(got['dev-1']![DLQ_HEADERS.error]).toMatch(/^event time .* (is before the floor|ahead of the wall clock)/);
  expect(got['nul\u0000byte']![DLQ_HEADERS.reason]).toBe('rejected');
  expect(got['nul\u0000byte']![DLQ_HEADERS.error]).toMatch(/0x00/);
});

test('a database outage pauses the sink, /ready says 503, nothing is committed, and it resumes by itself', async () => {
  let pgServer: PrivatePostgres | undefined = await startPrivatePostgres();
  cleanups.push(() => pgServer?.destroy());
  const db = await createTestDb(pgServer.url);
  const s = await setup(3, db);
  await produce(s.input, messages(s, 0, 10_000));
  const inst = start(s, 'tsdb', 'outage');
  await untilLoaded(s, 'sensor_data', 'tsdb', 10_000);
  const ready = () => fetch(`http://127.0.0.1:${opsPort(inst)}/ready`).then((r) => r.status);
  expect(await ready()).toBe(200);

  pgServer.stop();
  await produce(s.input, messages(s, 10_000, 10_000));
  await waitFor('/ready to answer 503', async () => ((await ready()) === 503 ? true : undefined));
  const retries = () => (logOf(inst).match(/cannot write sensor_data: retrying/g) ?? []).length;
  await waitFor('the sink to retry a write', async () => (retries() > 0 ? true : undefined));
  const before = await committed(`${s.id}-tsdb`, s.input);
  const seen = retries();
  await waitFor('more retries', async () => (retries() > seen + 1 ? true : undefined));
  expect(await committed(`${s.id}-tsdb`, s.input)).toBe(before);
  expect(before).toBe(10_000n);

  pgServer.start();
  await untilLoaded(s, 'sensor_data', 'tsdb', 20_000);
  expect(await ready()).toBe(200);
  expect(await counts(s.db.url, 'sensor_data')).toEqual({ n: 20_000, distinct_n: 20_000 });
  expect(await exitOf(inst, 'SIGTERM')).toBe(0);
  pgServer.destroy();
  pgServer = undefined;
});
