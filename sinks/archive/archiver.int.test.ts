import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../core/config.ts';
import { connectionSchema } from '../../infra/stack/connections.ts';
import { createS3Client } from '../s3/client.ts';
import {
  createTopics, kafka, produce, reading, registerReadings, startInstance, untilCaughtUp, waitFor, type Instance,
} from '../../core/runtime/testdata/harness.ts';
import { folderDestination, s3Destination, type Destination } from './destination.ts';
import { manifestRange } from './manifest.ts';
import { privateObjectStore } from './testdata/s3proxy.ts';
import { sensorData, verify } from './testdata/sensor-data.ts';

jest.setTimeout(240_000);

const conn = loadConfig(connectionSchema);
const H = 3_600_000;
const base = Date.UTC(2026, 10, 20, 7);
const topologies = join(__dirname, 'testdata', 'topologies.ts');
const running: Instance[] = [];
afterEach(() => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
});
const logOf = (i: Instance) => (existsSync(i.log) ? readFileSync(i.log, 'utf8') : '');
const newTest = () => `arc-${Date.now()}-${randomBytes(2).toString('hex')}`;
function start(id: string, run: string, label: string, env: Record<string, string>): Instance {
  const inst = startInstance(`${id}-archiver-${run}`, id, label, env, topologies);
  running.push(inst);
  return inst;
}
async function stop(inst: Instance, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  inst.child.kill(signal);
  const code = await inst.exited;
  running.splice(running.indexOf(inst), 1);
  return code;
}
/** n readings spread over three event-time hours, keyed by device (so over the partitions). */
const readings = (n: number, from = 0) => Array.from({ length: n }, (_, j) => {
  const i = from + j;
  return { ...reading(i), time: base + Math.floor((i * 3 * H) / 45_000), ingest_time: base + 3 * H };
});
const parquetKeys = async (dest: Destination, prefix: string) =>
  (await dest.list(`${prefix}/`)).filter((k) => k.endsWith('.parquet')).map((k) => k.slice(prefix.length));
async function committed(groupId: string, topic: string): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  const [row] = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  return row?.partitions.find((p) => p.partition === 0)?.offset;
}

test('SIGKILL during an upload, then a restart: no partial object, the keys of an uninterrupted run, every offset archived once', async () => {
  const id = newTest();
  const input = `${id}.in`;
  await createTopics([input], 3);
  const serde = await registerReadings(input);
  const n = 45_000;
  const rows = readings(n);
  await produce(input, rows.map((r) => ({ key: r.device_id, value: serde.encode(r) })));
  const table = await sensorData(rows);
  // The idle timeout closes only the last file of each partition: far longer than any pause between batches.
  const env = (run: string) => ({ ARCHIVE_PREFIX: `${id}/${run}`, ARCHIVE_MAX_ROWS: '4000', ARCHIVE_IDLE_MS: '6000' });
  const s3 = createS3Client(conn);
  const dest = s3Destination(s3, conn.S3_BUCKET, 16 << 20);
  try {
    const straight = start(id, 'a', 'a', env('a'));
    const killed = start(id, 'b', 'b1', { ...env('b'), SLUICE_FAULT: 'archive.upload:5' });
    expect(await killed.exited).toBeNull(); // killed by the fault point, mid-upload
    running.splice(running.indexOf(killed), 1);
    // What is there is whole: every object reads back as Parquet (a cut upload would not), and it is not everything.
    const early = verify({ TIMESCALE_URL: table.url, ARCHIVE_PREFIX: `${id}/b` });
    expect(early.stderr).toBe('');
    expect(early.stdout).toMatch(/^[1-9]\d* files read; 3 hours, [1-3] differing; 0 rows archived twice$/m);

    const restarted = start(id, 'b', 'b2', env('b'));
    for (const run of ['a', 'b']) {
      await untilCaughtUp(`${id}-archiver-${run}`, input, 180_000);
    }
    expect(await Promise.all([stop(straight), stop(restarted)])).toEqual([0, 0]);

    const keys = await parquetKeys(dest, `${id}/a`);
    expect(keys.length).toBeGreaterThanOrEqual(12); // 45,000 rows in files of at most 4,000, over 3 hours
    expect(await parquetKeys(dest, `${id}/b`)).toEqual(keys);

    // Every hour holds what sensor_data holds, and no (partition, offset) twice: each offset exactly once.
    const ok = verify({ TIMESCALE_URL: table.url, ARCHIVE_PREFIX: `${id}/b` });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('2026-11-20T07:00  15000    15000        ok');
    expect(ok.stdout).toContain(`${keys.length} files read; 3 hours, 0 differing; 0 rows archived twice`);
    expect(ok.status).toBe(0);
    // And it notices a difference.
    await table.client.query(`DELETE FROM sensor_data WHERE time >= $1 AND time < $1::timestamptz + interval '3600 ms'`, [new Date(base + H)]);
    const diff = verify({ TIMESCALE_URL: table.url, ARCHIVE_PREFIX: `${id}/b` });
    expect(diff.stdout).toMatch(/2026-11-20T08:00 +15000 +14985 +DIFF 15/);
    expect(diff.status).toBe(1);
  } finally {
    await table.drop();
    s3.destroy();
  }
});

test('a graceful stop drops the open file and commits only what is uploaded; an object store outage pauses the archive, commits nothing, and it resumes by itself (hyparquet-writer)', async () => {
  const id = newTest();
  const input = `${id}.in`;
  const group = `${id}-archiver-a`;
  const dir = mkdtempSync(join(tmpdir(), `${id}-s3-`));
  const store = await privateObjectStore(dir);
  const table = await sensorData(readings(13_000));
  try {
    await createTopics([input], 1);
    const serde = await registerReadings(input);
    const send = (from: number, count: number) => produce(input, readings(count, from).map((r) => ({ key: r.device_id, value: serde.encode(r) })));
    const dest = s3Destination(store.s3, store.env.S3_BUCKET, 16 << 20);
    const manifests = async () => (await dest.list(`${id}/_manifests/`)).length;
    const env = { ...store.env, ARCHIVE_PREFIX: id, ARCHIVE_MAX_ROWS: '2000', ARCHIVE_RETRY_MAX_MS: '1000', ARCHIVE_WRITER: 'hyparquet-writer' };

    // 7000 rows: three files of 2000 close on their row count, the last 1000 stay in the open file.
    await send(0, 7000);
    const first = start(id, 'a', 'first', { ...env, ARCHIVE_IDLE_MS: '600000' });
    await waitFor('three files archived', async () => ((await manifests()) === 3 ? true : undefined));
    const { opsPort } = JSON.parse(logOf(first).split('\n').find((l) => l.includes('"msg":"started"'))!) as { opsPort: number };
    const recordsIn = async () => (await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()).match(/^sluice_records_in_total\{[^}]*\} (\d+)$/m)?.[1];
    await waitFor('all 7000 records read', async () => ((await recordsIn()) === '7000' ? true : undefined));
    expect(await stop(first)).toBe(0);
    expect(await committed(group, input)).toBe('6000'); // not 7000: rows 6000..6999 were read but not archived

    const inst = start(id, 'a', 'outage', { ...env, ARCHIVE_IDLE_MS: '4000' });
    await waitFor('offset 7000 committed after the idle close', async () => ((await committed(group, input)) === '7000' ? true : undefined));
    await store.stop();
    await send(7000, 6000);
    const retries = () => (logOf(inst).match(/failed, retrying/g) ?? []).length;
    await waitFor('the upload to be retried', async () => (retries() >= 1 ? true : undefined));
    expect(await committed(group, input)).toBe('7000');
    const seen = retries();
    await waitFor('more retries', async () => (retries() >= seen + 3 ? true : undefined));
    expect(await committed(group, input)).toBe('7000'); // nothing committed while the store is down
    expect(inst.child.exitCode).toBeNull();

    await store.start();
    await untilCaughtUp(group, input, 120_000);
    expect(await stop(inst)).toBe(0);
    expect((await dest.list(`${id}/date=`)).map((k) => k.split('/').at(-1))).toEqual(
      ['0-0-1999', '0-11000-12999', '0-2000-3999', '0-4000-5999', '0-6000-6999', '0-7000-8999', '0-9000-10999'].map((f) => `${f}.parquet`));
    const result = verify({ ...store.env, TIMESCALE_URL: table.url, ARCHIVE_PREFIX: id });
    expect(result.stdout).toContain('7 files read; 1 hours, 0 differing; 0 rows archived twice');
    expect(result.status).toBe(0);
  } finally {
    await table.drop();
    await store.stop();
    store.s3.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('archivers joining and leaving mid-stream drop their open files, and every offset is still archived once', async () => {
  const id = newTest();
  const input = `${id}.in`;
  await createTopics([input], 3);
  const serde = await registerReadings(input);
  const rows = readings(45_000);
  const send = (from: number, to: number) => produce(input, rows.slice(from, to).map((r) => ({ key: r.device_id, value: serde.encode(r) })));
  const table = await sensorData(rows);
  const env = { ARCHIVE_PREFIX: id, ARCHIVE_MAX_ROWS: '3000' };
  const archived = (i: Instance) => (logOf(i).match(/"msg":"archived"/g) ?? []).length;
  try {
    // a never closes a file for idleness: when the partitions move, it holds open files.
    await send(0, 20_000);
    const a = start(id, 'a', 'join-a', { ...env, ARCHIVE_IDLE_MS: '600000' });
    await waitFor('a to archive files', async () => (archived(a) >= 3 ? true : undefined));
    const b = start(id, 'a', 'join-b', { ...env, ARCHIVE_IDLE_MS: '3000' });
    await waitFor('b to archive what a held open', async () => (archived(b) >= 1 ? true : undefined), 120_000);
    await send(20_000, 45_000);
    expect(await stop(a)).toBe(0); // its open file is dropped; b reads that partition again
    await untilCaughtUp(`${id}-archiver-a`, input, 180_000);
    expect(await stop(b)).toBe(0);
    const result = verify({ TIMESCALE_URL: table.url, ARCHIVE_PREFIX: id });
    expect(result.stdout).toMatch(/files read; 3 hours, 0 differing; 0 rows archived twice/);
    expect(result.status).toBe(0);
  } finally {
    await table.drop();
  }
});

test('a member paused past the session timeout after an upload deletes nothing the new owner archived, and writes no manifest', async () => {
  const id = newTest();
  const input = `${id}.in`;
  const dir = mkdtempSync(join(tmpdir(), `${id}-archive-`));
  await createTopics([input], 1);
  const serde = await registerReadings(input);
  const send = (from: number, count: number) => produce(input, readings(count, from).map((r) => ({ key: r.device_id, value: serde.encode(r) })));
  const dest = folderDestination(dir);
  const manifests = async () => (await dest.list(`${id}/_manifests/`)).map((k) => manifestRange(k)!);
  const env = { ARCHIVE_DIR: dir, ARCHIVE_PREFIX: id, ARCHIVE_IDLE_MS: '2000' };
  try {
    await send(0, 3000);
    // It closes the file of offsets 0–2999 for idleness, uploads it, and is stopped (SIGSTOP) before the manifest.
    const paused = start(id, 'a', 'paused', { ...env, SLUICE_FAULT: 'archive.uploaded:1:stop' });
    await waitFor('the pause', async () => (readFileSync(`/proc/${paused.child.pid}/stat`, 'utf8').split(' ')[2] === 'T' ? true : undefined), 60_000);
    await send(3000, 1000);
    // The partition moves once the session (6 s) expires; the new owner archives 0–3999 from the same start.
    const owner = start(id, 'a', 'owner', env);
    await waitFor('the new owner to archive 0–3999', async () => ((await committed(`${id}-archiver-a`, input)) === '4000' ? true : undefined), 120_000);

    paused.child.kill('SIGCONT');
    await waitFor('the paused member to rejoin', async () => (/rejoined the group after losing its membership/.test(logOf(paused)) ? true : undefined), 60_000);
    expect(logOf(paused)).toMatch(/not writing: no heartbeat for \d+ s/);
    expect(await Promise.all([stop(paused), stop(owner)])).toEqual([0, 0]);

    expect(await manifests()).toEqual([{ start: 0n, end: 3999n }]);
    expect((await dest.list(`${id}/date=`)).map((k) => k.slice(k.lastIndexOf('/') + 1))).toEqual(['0-0-3999.parquet']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a member paused past the session timeout while it waits to retry an upload uploads nothing beside the new owner\'s file', async () => {
  const id = newTest();
  const input = `${id}.in`;
  const dir = mkdtempSync(join(tmpdir(), `${id}-s3-`));
  const store = await privateObjectStore(dir);
  try {
    await createTopics([input], 1);
    const serde = await registerReadings(input);
    const send = (from: number, count: number) => produce(input, readings(count, from).map((r) => ({ key: r.device_id, value: serde.encode(r) })));
    const dest = s3Destination(store.s3, store.env.S3_BUCKET, 16 << 20);
    const env = { ...store.env, ARCHIVE_PREFIX: id, ARCHIVE_IDLE_MS: '2000', ARCHIVE_RETRY_MAX_MS: '4000' };
    await send(0, 1000);
    const paused = start(id, 'a', 'retrying', env);
    await waitFor('offsets 0–999 archived', async () => ((await committed(`${id}-archiver-a`, input)) === '1000' ? true : undefined), 60_000);
    // Offsets 1000–3999 close for idleness while the store is down: the upload waits between attempts.
    await store.stop();
    await send(1000, 3000);
    await waitFor('a second failed attempt', async () => ((logOf(paused).match(/upload of \S+ failed, retrying/g) ?? []).length >= 2 ? true : undefined), 60_000);
    paused.child.kill('SIGSTOP');
    await store.start();
    await send(4000, 1000);
    // The partition moves once the session (6 s) expires; the new owner archives 1000–4999.
    const owner = start(id, 'a', 'owner', env);
    await waitFor('the new owner to archive 1000–4999', async () => ((await committed(`${id}-archiver-a`, input)) === '5000' ? true : undefined), 120_000);

    // Its next attempt is due: it asks first, and the coordinator no longer knows it.
    paused.child.kill('SIGCONT');
    await waitFor('the paused member to rejoin', async () => (/rejoined the group after losing its membership/.test(logOf(paused)) ? true : undefined), 60_000);
    expect(await Promise.all([stop(paused), stop(owner)])).toEqual([0, 0]);
    expect((await dest.list(`${id}/date=`)).map((k) => k.slice(k.lastIndexOf('/') + 1))).toEqual(['0-0-999.parquet', '0-1000-4999.parquet']);
    expect((await dest.list(`${id}/_manifests/`)).map((k) => manifestRange(k)!)).toEqual([{ start: 0n, end: 999n }, { start: 1000n, end: 4999n }]);
  } finally {
    await store.stop();
    store.s3.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file of ARCHIVE_PART_BYTES or more goes up as a multipart upload and reads back whole', async () => {
  const s3 = createS3Client(conn);
  const dest = s3Destination(s3, conn.S3_BUCKET, 5 << 20);
  const key = `${newTest()}/big.parquet`;
  const body = randomBytes(11 << 20);
  try {
    await dest.put(key, body);
    expect((await s3.send(new HeadObjectCommand({ Bucket: conn.S3_BUCKET, Key: key }))).ETag).toMatch(/-3"$/); // the ETag of a 3-part upload
    expect((await dest.get(key)).equals(body)).toBe(true);
    expect(await dest.list(key)).toEqual([key]);
  } finally {
    await dest.delete(key);
    s3.destroy();
  }
});
