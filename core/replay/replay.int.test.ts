import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  caughtUp, createTopics, kafka, registerReadings, startInstance, untilCaughtUp, waitFor, type Instance,
} from '../runtime/testdata/harness.ts';
import { AvroSerde, readSchema } from '../serde/avro.ts';
import { RegistryClient } from '../serde/registry.ts';
import { valueSubject } from '../naming.ts';
import type { Reading } from '../../schemas/records.ts';
import { createTestDb, withClient, type TestDb } from '../../sinks/timescale/testdata/db.ts';

jest.setTimeout(180_000);

const root = join(__dirname, '..', '..');
const topologiesModule = join(__dirname, 'testdata', 'topologies.ts');
const id = `rp-${Date.now()}-${randomBytes(2).toString('hex')}`;
const input = `${id}.in`;
/** Kafka record timestamps (and event times) of the readings: one a second, from an hour ago. */
const base = Date.now() - 3_600_000;
const at = (i: number) => base + i * 1000;
const iso = (ms: number) => new Date(ms).toISOString();
let db: TestDb;
let serde: AvroSerde<Reading>;
let live: Instance | undefined;
const env = () => ({ ...process.env, SLUICE_TEST_ID: id, TIMESCALE_URL: db.url, SLUICE_PARTITIONS: '3' });

const reading = (i: number): Reading => ({ device_id: `dev-${i % 30}`, sensor_type: 'temperature', value: i / 10, unit: '°C', time: at(i), ingest_time: at(i) });

/** Readings `from`…`from + n - 1`, with Kafka timestamps = their event times, spread over the topic's partitions. */
async function produce(topic: string, from: number, n: number, partitions = 3): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: n }, (_, k) => {
    const r = reading(from + k);
    return { key: r.device_id, value: serde.encode(r), timestamp: String(r.time), partition: (from + k) % partitions };
  });
  await producer.sendBatch({ topicMessages: [{ topic, messages }] });
  await producer.disconnect();
}

async function replay(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return replayWith({}, ...args);
}
async function replayWith(extraEnv: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(join(root, 'bin', 'replay'), [...args, '--topologies', topologiesModule], { env: { ...env(), ...extraEnv } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Count, sum and md5 of every row of `table` (one of this file's literals), in key order. */
async function checksum(table: string, where = 'true', params: unknown[] = []) {
  return withClient(db.url, async (c) => (await c.query(
    `SELECT count(*)::int AS n, sum(value::numeric)::text AS sum, md5(coalesce(string_agg(concat_ws('|', time, device_id, sensor_type, value, unit), ',' ORDER BY device_id, sensor_type, time), '')) AS md5
     FROM ${table} WHERE ${where}`, params)).rows[0] as { n: number; sum: string | null; md5: string });
}

async function untilLoaded(n: number) {
  await waitFor(`${n} rows in sensor_data and ${id}-tsdb caught up`, async () =>
    (await checksum('sensor_data')).n >= n && (await caughtUp(`${id}-tsdb`, input)) ? true : undefined, 120_000);
}

function startLive(label: string) {
  live = startInstance(`${id}-tsdb`, id, label, { TIMESCALE_URL: db.url, SLUICE_PARTITIONS: '3' }, topologiesModule);
}
async function stopLive() {
  live!.child.kill('SIGTERM');
  expect(await live!.exited).toBe(0);
  live = undefined;
}

async function groups(prefix: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const { groups: all } = await admin.listGroups();
  await admin.disconnect();
  return all.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
}

beforeAll(async () => {
  db = await createTestDb();
  await withClient(db.url, (c) => c.query('CREATE TABLE sensor_data_backfill (LIKE sensor_data INCLUDING ALL)'));
  await createTopics([input], 3);
  serde = await registerReadings(input);
  await produce(input, 0, 3000);
  startLive('live');
  await untilLoaded(3000);
});

afterAll(async () => {
  live?.child.kill('SIGKILL');
  await db?.drop();
});

test('replaying an overlapping range twice while the live sink runs leaves sensor_data unchanged', async () => {
  const before = await checksum('sensor_data');
  expect(before.n).toBe(3000);

  const first = await replay(`${id}-tsdb`, '--from', iso(at(1000)), '--to', iso(at(2500)), '--execute');
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/^total +1500$/m);
  expect(first.stdout).toContain(`replaying 1500 records under consumer group ${id}-tsdb.replay.`);
  expect(first.stdout).toMatch(/replayed 1,500 records of .* records\/s/);

  // The second replay overlaps the first and runs while new readings arrive: its end offsets are
  // those of its start, and the live sink loads the new ones.
  const [second] = await Promise.all([replay(`${id}-tsdb`, '--from', iso(at(2000)), '--execute'), produce(input, 3000, 600)]);
  expect(second.code).toBe(0);
  const planned = Number(/^total +(\d+)$/m.exec(second.stdout)![1]);
  expect(planned).toBeGreaterThanOrEqual(1000);
  expect(second.stdout).toContain(`replayed ${planned.toLocaleString('en-US')} records`);
  await untilLoaded(3600);

  expect(await checksum('sensor_data', 'time < $1', [new Date(at(3000))])).toEqual(before);
  const all = await checksum('sensor_data');
  expect(all.n).toBe(3600);
  // Their consumer groups are gone, and so are the offsets they stored in the database.
  expect(await groups(`${id}-tsdb.replay.`)).toEqual([]);
  const stored = await withClient(db.url, async (c) => (await c.query('SELECT consumer_group FROM sluice_sink_offsets WHERE consumer_group LIKE $1', [`${id}-tsdb.replay.%`])).rows);
  expect(stored).toEqual([]);
});

test('a table added later is backfilled from the start of the topic', async () => {
  const plan = await replay(`${id}-backfill`, '--from', '0');
  expect(plan.code).toBe(0);
  expect(plan.stdout).toContain('dry run');
  expect(await checksum('sensor_data_backfill')).toEqual({ n: 0, sum: null, md5: 'd41d8cd98f00b204e9800998ecf8427e' });

  const run = await replay(`${id}-backfill`, '--from', '0', '--execute');
  expect(run.code).toBe(0);
  await untilLoaded(3600);
  expect(await checksum('sensor_data_backfill')).toEqual(await checksum('sensor_data'));
});

test('--reset-to is refused while the group has members, then moves Kafka\'s and the database\'s offsets', async () => {
  const refused = await replay(`${id}-tsdb`, '--reset-to', iso(at(1500)), '--execute');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(new RegExp(`consumer group ${id}-tsdb has 1 active member: sluice-${id}-tsdb on \\S+ \\(member \\S+\\); stop ${id}-tsdb before --reset-to`));

  await stopLive();
  const dry = await replay(`${id}-tsdb`, '--reset-to', iso(at(1500)));
  expect(dry.stdout).toContain('dry run');
  const done = await replay(`${id}-tsdb`, '--reset-to', iso(at(1500)), '--execute');
  expect(done.stderr).toBe('');
  expect(done.stdout).toContain(`moved the offsets of sink db and consumer group ${id}-tsdb`);
  // Readings 1500… are the records from that time on: 500 per partition of 3.
  const admin = kafka.admin();
  await admin.connect();
  const [committed] = await admin.fetchOffsets({ groupId: `${id}-tsdb`, topics: [input] });
  await admin.disconnect();
  expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([[0, '500'], [1, '500'], [2, '500']]);
  const stored = await withClient(db.url, async (c) => (await c.query(
    'SELECT partition, next_offset::text AS o FROM sluice_sink_offsets WHERE consumer_group = $1 ORDER BY partition', [`${id}-tsdb`])).rows);
  expect(stored).toEqual([{ partition: 0, o: '500' }, { partition: 1, o: '500' }, { partition: 2, o: '500' }]);

  // Restarted, the sink loads from there again: the rows do not change.
  const before = await checksum('sensor_data');
  startLive('after-reset');
  await untilLoaded(3600);
  expect(await checksum('sensor_data')).toEqual(before);
});

test('a plan for a time before what retention kept says that data is no longer in Kafka', async () => {
  const short = `${id}.short`;
  await createTopics([short], 2);
  await produce(short, 0, 400, 2);
  const admin = kafka.admin();
  await admin.connect();
  await admin.fetchTopicMetadata({ topics: [short] }); // deleteTopicRecords needs it loaded
  await admin.deleteTopicRecords({ topic: short, partitions: [{ partition: 0, offset: '100' }] });
  await admin.disconnect();

  const plan = await replay(`${id}-short`, '--from', iso(at(0)), '--to', iso(at(300)));
  expect(plan.code).toBe(0);
  // Partition 0 holds the even readings: offset 100 is reading 200.
  expect(plan.stdout).toContain(`data before ${iso(at(200))} is no longer in Kafka (retention): partition 0 starts at offset 100`);
  expect(plan.stdout).toMatch(/^0 +100 +150 +50$/m);
  expect(plan.stdout).toMatch(/^1 +0 +150 +150$/m);
  // From a time retention kept, nothing is missing.
  expect((await replay(`${id}-short`, '--from', iso(at(250)))).stdout).not.toContain('no longer');
});

test('a replay recomputes the windows it covers whole, from event time, in a changelog of its own', async () => {
  const changelog = `${id}-windows-stats-changelog`;
  await withClient(db.url, (c) => c.query(
    'CREATE TABLE device_stats (device_id text NOT NULL, window_start timestamptz NOT NULL, n bigint NOT NULL, total double precision NOT NULL, UNIQUE (device_id, window_start))'));
  const windows = startInstance(`${id}-windows`, id, 'windows', { TIMESCALE_URL: db.url, SLUICE_PARTITIONS: '3' }, topologiesModule);
  try {
    await untilCaughtUp(`${id}-windows`, input, 120_000, windows);
    const stats = () => withClient(db.url, async (c) => (await c.query('SELECT device_id, window_start, n::int, total FROM device_stats ORDER BY 1, 2')).rows);
    const live = await stats();
    // What the live topology wrote equals the raw readings, window by window.
    const raw = await withClient(db.url, async (c) => (await c.query(
      "SELECT device_id, time_bucket('5 minutes', time) AS window_start, count(*)::int AS n, sum(value) AS total FROM sensor_data GROUP BY 1, 2 ORDER BY 1, 2")).rows);
    const rawByKey = new Map(raw.map((r) => [`${r.device_id}|${r.window_start.getTime()}`, r]));
    expect(live.length).toBeGreaterThanOrEqual(30 * 9); // 30 devices, nine or more closed 5-minute windows each
    for (const w of live) {
      const r = rawByKey.get(`${w.device_id}|${w.window_start.getTime()}`);
      expect([w.n, w.total]).toEqual([r.n, expect.closeTo(r.total, 6)]);
    }

    // A bug wrote wrong aggregates from X on; the replay starts mid-window, 2.5 minutes before X.
    const x = Math.ceil(at(1200) / 300_000) * 300_000;
    await withClient(db.url, (c) => c.query('UPDATE device_stats SET n = 0, total = 0 WHERE window_start >= $1', [new Date(x)]));
    // Stopped, so that its changelog only grows if the replay writes to it (a running topology writes a
    // position record at every commit interval).
    windows.child.kill('SIGTERM');
    expect(await windows.exited).toBe(0);
    const changelogBefore = await endOffsetsSum(changelog);
    const run = await replay(`${id}-windows`, '--from', iso(x - 150_000), '--execute');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Windows from X are recomputed; the one the replay began inside keeps its complete, live, result.
    expect(await stats()).toEqual(live);
    expect(await endOffsetsSum(changelog)).toBe(changelogBefore);
    const admin = kafka.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics.filter((t) => t.startsWith(`${id}-windows.replay.`))).toEqual([]);
    expect(topics).toContain(changelog);
  } finally {
    windows.child.kill('SIGTERM');
    await windows.exited;
  }
});

/** Every file below `dir`: relative path → sha256. */
function snapshot(dir: string): Record<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  return Object.fromEntries(files.map((f) => {
    const path = join(f.parentPath, f.name);
    return [path.slice(dir.length + 1), createHash('sha256').update(readFileSync(path)).digest('hex')];
  }).sort(([a], [b]) => (a! < b! ? -1 : 1)));
}

test('the archiver: a replay of an archived range changes nothing; into an empty archive it writes the same keys and bytes', async () => {
  const [archive, empty] = [mkdtempSync(join(tmpdir(), `${id}-archive-`)), mkdtempSync(join(tmpdir(), `${id}-rebuilt-`))];
  const archiveEnv = { ARCHIVE_DIR: archive, ARCHIVE_IDLE_MS: '3000' };
  const archiver = startInstance(`${id}-archiver`, id, 'archiver', { SLUICE_PARTITIONS: '3', ...archiveEnv }, topologiesModule);
  try {
    // Committed to the end once the last file of each partition is closed (idle) and uploaded.
    await untilCaughtUp(`${id}-archiver`, input, 120_000, archiver);
    const archived = snapshot(archive);
    const run = (dir: string) => promisify(execFile)(join(root, 'bin', 'replay'), [`${id}-archiver`, '--from', '0', '--execute', '--topologies', topologiesModule],
      { env: { ...env(), ARCHIVE_DIR: dir, ARCHIVE_IDLE_MS: '3000' } });
    const { stdout } = await run(archive);
    const planned = Number(/^total +(\d+)$/m.exec(stdout)![1]);
    expect(planned).toBeGreaterThanOrEqual(3000);
    expect(stdout).toContain(`replayed ${planned.toLocaleString('en-US')} records`);
    expect(snapshot(archive)).toEqual(archived);

    // An archive lost (objects and manifests) and rebuilt by a replay: the files the live archiver closed
    // on their hour are written again under the same keys; the file still open when the replay reached
    // its end offsets is not (where it ends would depend on where the replay stopped).
    await run(empty);
    const rebuilt = snapshot(empty);
    const lastManifests = [0, 1, 2].map((p) => Object.keys(archived).filter((k) => k.startsWith(`sensor_readings/_manifests/partition=${p}/`)).at(-1)!);
    const open = new Set(lastManifests.flatMap((m) => [m, (JSON.parse(readFileSync(join(archive, m), 'utf8')) as { key: string }).key]));
    const expected = Object.fromEntries(Object.entries(archived).filter(([k]) => !open.has(k)));
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(6); // a file closed on its hour, and its manifest, per partition
    expect(rebuilt).toEqual(expected);
  } finally {
    archiver.child.kill('SIGTERM');
    await archiver.exited;
    rmSync(archive, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
});

async function endOffsetsSum(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.reduce((n, o) => n + Number(o.high), 0);
}

test('replays of hourly-aggregates and alerting: hours recomputed from sensor_data, alerts unchanged', async () => {
  const HOUR = 3_600_000;
  const hoursDb = await createTestDb();
  const topic = `${id}.hours`;
  const started: Instance[] = [];
  try {
    await createTopics([topic], 3);
    const hoursSerde = await registerReadings(topic);
    const registry = new RegistryClient(process.env.SCHEMA_REGISTRY_URL!);
    await registry.register(valueSubject(`${id}.stats`), readSchema('sensor-stats-hourly'));
    await registry.register(valueSubject(`${id}.alerts`), readSchema('alerts'));
    // Readings every 30 s of seven devices over the three hours before the current one; the MQTT
    // connector delivered one reading twice (same device, sensor and time; another offset). Device
    // h-6 is hot for 20 minutes of the second hour: one long alert episode.
    const h = Date.now() - (Date.now() % HOUR) - 3 * HOUR;
    const hot = { from: h + HOUR + 600_000, to: h + HOUR + 1_800_000 };
    const readings: Reading[] = [];
    for (let t = h + 5000; t < h + 3 * HOUR; t += 30_000) {
      for (let d = 0; d < 6; d++) readings.push({ device_id: `h-${d}`, sensor_type: 'temperature', value: 15 + ((t / 30_000 + d) % 11), unit: '°C', time: t + d, ingest_time: t + d });
      readings.push({ device_id: 'h-6', sensor_type: 'temperature', value: t >= hot.from && t < hot.to ? 30 : 15, unit: '°C', time: t + 6, ingest_time: t + 6 });
    }
    const twice = readings.find((r) => r.device_id === 'h-0' && r.time >= h + HOUR + 600_000)!;
    const producer = kafka.producer();
    await producer.connect();
    const sent = readings.flatMap((r) => (r === twice ? [r, r] : [r])); // the repeat right after the reading: in order, not late
    await producer.sendBatch({ topicMessages: [{ topic, messages: sent.map((r) => ({ key: r.device_id, value: hoursSerde.encode(r), timestamp: String(r.time), partition: Number(r.device_id.slice(2)) % 3 })) }] });
    await producer.disconnect();

    // Temperatures above 24 raise alerts: an episode every few minutes per device.
    const liveEnv = { TIMESCALE_URL: hoursDb.url, SLUICE_PARTITIONS: '3', HOURLY_GRACE_MS: '0', HOURLY_IDLE_MS: '0', ALERT_THRESHOLD: '24', ALERT_CLEAR_AFTER_MS: '60000' };
    const names = ['hourly', 'hours-db', 'alerting'];
    for (const name of names) started.push(startInstance(`${id}-${name}`, id, name, liveEnv, topologiesModule));
    for (const [i, name] of names.entries()) await untilCaughtUp(`${id}-${name}`, topic, 120_000, started[i]);
    const stats = (bucket: number) => withClient(hoursDb.url, async (c) => (await c.query(
      'SELECT device_id, count::int, sum, min_value, max_value FROM sensor_stats_hourly WHERE bucket = $1 ORDER BY device_id', [new Date(bucket)])).rows);
    const raw = (bucket: number) => withClient(hoursDb.url, async (c) => (await c.query(
      `SELECT device_id, count(*)::int AS count, sum(value) AS sum, min(value) AS min_value, max(value) AS max_value FROM sensor_data
       WHERE time >= $1 AND time < $2 GROUP BY device_id ORDER BY device_id`, [new Date(bucket), new Date(bucket + HOUR)])).rows);
    // Live, the reading delivered twice counted twice in its hour; the first hour is right.
    const second = h + HOUR;
    expect((await stats(second))[0].count).toBe((await raw(second))[0].count + 1);
    expect(await stats(h)).toEqual(await raw(h));

    const run = await replayWith(liveEnv, `${id}-hourly`, '--from', iso(h), '--execute');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Both closed hours now equal the raw readings; the open third hour was not written.
    for (const bucket of [h, second]) expect(await stats(bucket)).toEqual(await raw(bucket));
    expect(await stats(h + 2 * HOUR)).toEqual([]);

    // Alerting replayed from the start of the topic rewrites the same alerts (same ids, same rows),
    // including those of a device whose rows were lost.
    const alerts = () => withClient(hoursDb.url, async (c) => (await c.query('SELECT * FROM alerts ORDER BY id')).rows);
    const before = await alerts();
    expect(before.length).toBeGreaterThan(10);
    await withClient(hoursDb.url, (c) => c.query("DELETE FROM alerts WHERE device_id = 'h-0'")); // lost, say
    const replayed = await replayWith(liveEnv, `${id}-alerting`, '--from', '0', '--execute');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain(`replayed ${sent.length.toLocaleString('en-US')} records`);
    expect(await alerts()).toEqual(before);

    // Replayed from the middle of h-6's episode: the episode opened before the range is not raised
    // again under a new id; the alerts table stays as it was.
    const episode = before.filter((a) => a.device_id === 'h-6');
    expect(episode).toHaveLength(1);
    const middle = await replayWith(liveEnv, `${id}-alerting`, '--from', iso(hot.from + 600_000), '--execute');
    expect(middle.code).toBe(0);
    expect(await alerts()).toEqual(before);
  } finally {
    for (const i of started) {
      i.child.kill('SIGTERM');
      await i.exited;
    }
    await hoursDb.drop();
  }
});
