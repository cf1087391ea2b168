import { randomBytes } from 'node:crypto';
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../s3/client.ts';
import { createTopics, kafka } from '../../core/runtime/testdata/harness.ts';
import { retentionCommand } from './retention-command.ts';
import { createTestDb, withClient, type TestDb } from './testdata/db.ts';

const s3 = createS3Client({ ...process.env, S3_REGION: process.env.S3_REGION ?? 'us-east-1', S3_FORCE_PATH_STYLE: true });
const bucket = process.env.S3_BUCKET ?? 'sluice';
const prefix = `test-retention-${randomBytes(4).toString('hex')}/sensor_readings`;
const written: string[] = [];
// The archived topic: 110, 90 and 5 records in partitions 0, 1 and 2 (more than the manifests below cover, but in 2).
const topic = `${prefix.split('/')[0]}.readings`;
let db: TestDb;

async function putManifest(partition: number, start: number, end: number, minTime: string, maxTime: string, hours: string[]) {
  const key = `${prefix}/_manifests/partition=${partition}/${String(start).padStart(20, '0')}-${String(end).padStart(20, '0')}.json`;
  const body = { key: `${prefix}/date=2026-01-01/p${partition}-${start}.parquet`, partition, startOffset: String(start), endOffset: String(end), rows: end - start + 1, minTime, maxTime, hours };
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(body), ContentType: 'application/json' }));
  written.push(key);
}

async function run(args: { execute?: boolean; force?: boolean }, archivePrefix = prefix) {
  const lines: string[] = [];
  const code = await retentionCommand({ execute: false, force: false, ...args }, { ...process.env, TIMESCALE_URL: db.url, ARCHIVE_PREFIX: archivePrefix, ARCHIVE_DAYS: '30', ARCHIVE_TOPIC: topic }, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}
/** Rows left per old hour, as 'HH:count'. */
const remaining = () => withClient(db.url, async (c) =>
  (await c.query("SELECT to_char(date_trunc('hour', time, 'UTC'), 'HH24') AS h, count(*)::int AS n FROM sensor_data WHERE time < '2026-02-01' GROUP BY 1 ORDER BY 1"))
    .rows.map((r) => `${r.h}:${r.n}`));

beforeAll(async () => {
  db = await createTestDb();
  await createTopics([topic], 3);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [[0, 110], [1, 90], [2, 5]].flatMap(([partition, n]) => Array.from({ length: n! }, () => ({ partition, value: 'x' }))) });
  await producer.disconnect();
  // 2026-01-01 10:00–13:59 UTC, 6 rows per hour (old), and 3 rows from now (recent, always kept).
  await withClient(db.url, (c) => c.query(
    `INSERT INTO sensor_data (time, device_id, sensor_type, value)
     SELECT timestamptz '2026-01-01 10:00:00+00' + i * interval '10 minutes', 'dev-1', 'temperature', i FROM generate_series(0, 23) i
     UNION ALL SELECT now() - i * interval '1 minute', 'dev-1', 'temperature', i FROM generate_series(1, 3) i`));
});
afterAll(async () => {
  if (written.length) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: written.map((Key) => ({ Key })) } }));
  await db.drop();
});

test('without any manifest it refuses, deletes nothing, and says why', async () => {
  const { code, out } = await run({ execute: true });
  expect(code).toBe(2);
  expect(out).toContain(`refusing: no archive manifests under s3://${bucket}/${prefix}/_manifests/`);
  expect(await remaining()).toEqual(['10:6', '11:6', '12:6', '13:6']);
});

test('dry run lists each old hour; --execute deletes only the hours every partition of the topic archived past (or to its end)', async () => {
  await putManifest(0, 0, 99, '2026-01-01T10:00:00Z', '2026-01-01T12:20:00Z', ['2026-01-01T10', '2026-01-01T11', '2026-01-01T12']);
  await putManifest(1, 0, 49, '2026-01-01T10:05:00Z', '2026-01-01T11:40:00Z', ['2026-01-01T10', '2026-01-01T11']);
  await putManifest(1, 50, 80, '2026-01-01T11:40:00Z', '2026-01-01T12:05:00Z', ['2026-01-01T11', '2026-01-01T12']);
  // Partition 2 has records and no manifest yet: its rows may be in any hour, so none is confirmed.
  const blocked = await run({ execute: true });
  expect(blocked.out).toContain('deleted 0 rows in 0 hours');
  expect(await remaining()).toEqual(['10:6', '11:6', '12:6', '13:6']);
  // Archived to its end in Kafka (offsets 0-4), partition 2 no longer holds any hour back.
  await putManifest(2, 0, 4, '2026-01-01T10:00:00Z', '2026-01-01T10:30:00Z', ['2026-01-01T10']);

  const dry = await run({});
  expect(dry.code).toBe(0);
  expect(dry.out.split('\n')).toEqual([
    '2026-01-01T10:00Z  6 rows  would delete',
    '2026-01-01T11:00Z  6 rows  would delete',
    '2026-01-01T12:00Z  6 rows  keep: not confirmed archived',
    '2026-01-01T13:00Z  6 rows  keep: not confirmed archived',
    expect.stringMatching(/^would delete 12 rows in 2 hours older than .* \(ARCHIVE_DAYS=30\); kept 2 hours not confirmed archived; dry run, --execute deletes$/),
  ]);
  expect(await remaining()).toEqual(['10:6', '11:6', '12:6', '13:6']);

  const done = await run({ execute: true });
  expect(done.out).toContain('2026-01-01T10:00Z  6 rows  deleted');
  expect(await remaining()).toEqual(['12:6', '13:6']);
});

test('--force deletes every old hour even with no manifest, and never recent rows', async () => {
  const { code, out } = await run({ execute: true, force: true }, `${prefix}-none`);
  expect(code).toBe(0);
  expect(out).toContain('deleted 12 rows in 2 hours');
  expect(await remaining()).toEqual([]);
  expect(await withClient(db.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM sensor_data')).rows[0].n)).toBe(3);
});
