// Bare-number readings (the payload the seed's devices send) from MQTT to sensor_data, stored
// exactly once: a backlog that arrives in one burst, and a crash between Kafka's ack and the PUBACK.
import { join } from 'node:path';
import { startInstance, total, waitFor, registerReadings, type Instance } from '../../core/runtime/testdata/harness.ts';
import { createTestDb, withClient, type TestDb } from '../../sinks/timescale/testdata/db.ts';
import type { AvroSerde } from '../../core/serde/avro.ts';
import type { Reading } from '../../schemas/records.ts';
import { devBroker, type Broker } from './testdata/broker.ts';
import { metric, newIngestTest, publishAll, readWhere, startIngest, type Ingest, type IngestTest } from './testdata/harness.ts';

jest.setTimeout(180_000);

const sinkTopologies = join(__dirname, '..', '..', 'sinks', 'timescale', 'testdata', 'topologies.ts');
const running: Instance[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});
const track = <I extends Instance>(inst: I): I => {
  running.push(inst);
  return inst;
};
const stop = async (inst: Instance) => {
  inst.child.kill('SIGTERM');
  const code = await inst.exited;
  running.splice(running.indexOf(inst), 1);
  return code;
};

/** A private broker with Sluice's configuration, a connector writing to `<id>.in` and a test database for the sink. */
async function setup(tag: string): Promise<{ t: IngestTest; broker: Broker; db: TestDb; topic: string; serde: AvroSerde<Reading> }> {
  const broker = await devBroker();
  cleanups.push(() => broker.stop());
  const t = await newIngestTest(tag, `mqtt://127.0.0.1:${broker.port}`);
  const topic = `${t.id}.in`;
  const serde = await registerReadings(topic);
  t.env.INGEST_TOPIC = topic;
  const db = await createTestDb();
  cleanups.push(() => db.drop());
  return { t, broker, db, topic, serde };
}
const ingest = (t: IngestTest, label: string, env: Record<string, string> = {}): Ingest => track(startIngest(t, label, env));
const sink = (t: IngestTest, db: TestDb) => track(startInstance(`${t.id}-tsdb`, t.id, 'sink', { TIMESCALE_URL: db.writerUrl, SLUICE_PARTITIONS: '3' }, sinkTopologies));

/** Waits until the sink has stored offsets (in the database, with the rows) up to the end of every partition of `topic`. */
async function untilLoaded(db: TestDb, t: IngestTest, topic: string, inst: Instance) {
  const end = await total(topic);
  await waitFor(`the sink to load ${end} records of ${topic} (log ${inst.log})`, async () => {
    if (inst.child.exitCode !== null) throw new Error(`the sink exited (log ${inst.log})`);
    const r = await withClient(db.url, (c) => c.query<{ n: string | null }>(
      'SELECT sum(next_offset) AS n FROM sluice_sink_offsets WHERE consumer_group = $1 AND topic = $2', [`${t.id}-tsdb`, topic]));
    return BigInt(r.rows[0]?.n ?? 0) === end ? true : undefined;
  }, 120_000);
}

const rows = (db: TestDb, device: string) => withClient(db.url, async (c) =>
  (await c.query<{ value: number; time: Date; us: string; time_source: string }>(
    "SELECT value, time, extract(microseconds FROM time)::bigint % 1000 AS us, time_source FROM sensor_data WHERE device_id = $1 ORDER BY time", [device])).rows);

test('60 bare readings of one sensor queued while the connector was down become 60 rows, each with its own connector time', async () => {
  const { t, db, topic } = await setup('backlog');
  // A first run creates the persistent session; then the broker queues what comes while the connector is down.
  const first = ingest(t, 'first');
  await first.started();
  expect(await stop(first)).toBe(0);
  const n = 60;
  const acked = await publishAll(t.env.MQTT_BROKER!, {}, Array.from({ length: n }, () => ({ topic: `${t.prefix}/device-001/temperature`, payload: '22.5' })));
  expect(acked).toHaveLength(n);

  const second = ingest(t, 'second');
  const port = await second.started();
  await waitFor('every queued message acknowledged', async () =>
    ((await metric(port, 'sluice_mqtt_messages_total')) === n && (await metric(port, 'sluice_mqtt_unacked')) === 0 ? true : undefined));
  expect(await total(topic)).toBe(BigInt(n));
  const s = sink(t, db);
  await untilLoaded(db, t, topic, s);

  const stored = await rows(db, 'device-001');
  expect(stored).toHaveLength(n);
  expect(new Set(stored.map((r) => `${r.time.getTime()}.${r.us}`)).size).toBe(n);
  expect(stored.every((r) => r.time_source === 'connector' && r.value === 22.5)).toBe(true);
});

test('killed after Kafka acknowledged a batch and before its PUBACKs, restarted: each bare reading is in Kafka and in sensor_data once', async () => {
  const { t, db, topic, serde } = await setup('puback');
  const n = 2000;
  // The 3rd batch's PUBACKs never go out: the broker redelivers those messages, which are already in Kafka.
  const first = ingest(t, 'first', { SLUICE_FAULT: 'ingest.before-puback:3', INGEST_BATCH_MAX: '100' });
  await first.started();
  const messages = Array.from({ length: n }, (_, i) => ({ topic: `${t.prefix}/dev-${i % 4}/temperature`, payload: String(i) }));
  const acked = await publishAll(t.env.MQTT_BROKER!, {}, messages);
  expect(await first.exited).toBe(null); // SIGKILLed by the fault point
  running.splice(running.indexOf(first), 1);

  const second = ingest(t, 'second');
  const port = await second.started();
  const values = new Map<number, number>();
  await readWhere(topic, (r) => {
    const v = serde.decode(r.value).value;
    values.set(v, (values.get(v) ?? 0) + 1);
    return true;
  }, acked.length);
  // Once nothing is unacknowledged the broker has nothing more to send: the topic is final.
  await waitFor('every message acknowledged', async () => ((await metric(port, 'sluice_mqtt_unacked')) === 0 ? true : undefined));
  expect(acked.filter((i) => !values.has(i))).toEqual([]);
  expect(await total(topic)).toBe(BigInt(acked.length));
  expect(await metric(port, 'sluice_mqtt_redeliveries_skipped_total')).toBeGreaterThan(0);

  const s = sink(t, db);
  await untilLoaded(db, t, topic, s);
  const stored = await withClient(db.url, async (c) => (await c.query<{ n: string; distinct: string }>(
    'SELECT count(*) AS n, count(DISTINCT value) AS distinct FROM sensor_data')).rows[0]!);
  expect(stored).toEqual({ n: String(acked.length), distinct: String(acked.length) });
});
