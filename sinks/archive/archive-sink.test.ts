import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { OutRecord } from '../../core/topology.ts';
import { SluiceError } from '../../core/errors.ts';
import { folderDestination, type Destination } from './destination.ts';
import { parquetFormat, type Reading } from './file-format.ts';
import { createArchiveSink, type ArchiveOptions } from './archive-sink.ts';
import type { Manifest } from './manifest.ts';

const log = pino({ level: 'silent' });
const H = 3_600_000;
const base = Date.UTC(2026, 10, 27, 10); // 2026-11-27T10:00Z
const topic = 'readings';
let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'archive-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const reading = (time: number, i: number): Reading => ({ device_id: `dev-${i % 7}`, sensor_type: 'temperature', value: i / 10, unit: '°C', time, ingest_time: time + 5 });
/** Offsets from `first`; `times[i]` is the event time of offset first + i. */
const records = (partition: number, first: number, times: number[]): OutRecord[] =>
  times.map((time, i) => ({ to: 'archive', key: `k${i}`, value: { topic, partition, offset: String(first + i), key: null, value: reading(time, first + i), timestamp: time, headers: {} } }));

function sink(dest: Destination, over: Partial<ArchiveOptions> = {}, durableChanged: () => void = () => undefined, member: () => Promise<void> = async () => undefined) {
  return createArchiveSink({
    destination: dest, format: parquetFormat({ compression: 'GZIP', rowGroupSize: 50_000 }), prefix: 'sensor_readings',
    maxRows: 1000, maxBytes: 1 << 30, idleMs: 60_000, retryMs: 10, ...over,
  }, { log, durableChanged, member, membership: () => undefined });
}
const noReject = () => {
  throw new Error('unexpected reject');
};
const sendDeadLetters = async () => undefined;
/** Writes `recs` in batches of `size`, as the runtime does, and returns the offsets it would commit. */
async function feed(s: ReturnType<typeof sink>, recs: OutRecord[], size: number, partition = 0): Promise<string[]> {
  const commits: string[] = [];
  for (let i = 0; i < recs.length; i += size) {
    const batch = recs.slice(i, i + size);
    const nextOffset = String(Number((batch.at(-1)!.value as { offset: string }).offset) + 1);
    await s.write(batch, { topic, partition, nextOffset }, noReject, sendDeadLetters);
    commits.push(s.durable!({ topic, partition })!);
  }
  return commits;
}
const files = async (dest: Destination) => (await dest.list('sensor_readings/')).filter((k) => k.endsWith('.parquet'));

// 2500 rows: 1200 in hour 10, then hour 11 with one late row of hour 10 at offset 1300, then hour 12.
const times = [
  ...Array.from({ length: 1200 }, (_, i) => base + i * 1000),
  ...Array.from({ length: 1000 }, (_, i) => (i === 100 ? base + 5 : base + H + i * 1000)),
  ...Array.from({ length: 300 }, (_, i) => base + 2 * H + i),
];

test('files close on row count and at the end of their event-time hour, named after their offset range', async () => {
  const dest = folderDestination(dir);
  const s = sink(dest);
  const commits = await feed(s, records(3, 0, times), 300, 3);
  expect(await files(dest)).toEqual([
    'sensor_readings/date=2026-11-27/hour=10/3-0-999.parquet',
    'sensor_readings/date=2026-11-27/hour=10/3-1000-1199.parquet',
    'sensor_readings/date=2026-11-27/hour=11/3-1200-2199.parquet',
  ]);
  // Offsets are committed only up to the start of the file still open (hour 12, from 2200).
  expect(commits.at(-1)).toBe('2200');
  expect(commits).toEqual(['0', '0', '0', '1000', '1200', '1200', '1200', '2200', '2200']);

  const manifest = JSON.parse((await dest.get('sensor_readings/_manifests/partition=3/00000000000000001200-00000000000000002199.json')).toString()) as Manifest;
  expect(manifest).toEqual({
    key: 'sensor_readings/date=2026-11-27/hour=11/3-1200-2199.parquet', partition: 3, startOffset: '1200', endOffset: '2199', rows: 1000,
    minTime: '2026-11-27T10:00:00.005Z', maxTime: '2026-11-27T11:16:39.000Z', hours: ['2026-11-27T10', '2026-11-27T11'],
  });
});

test('the same offsets give the same files whatever the batches, and after a restart from the committed offset', async () => {
  const all = records(0, 0, times);
  const straight = folderDestination(join(dir, 'a'));
  await feed(sink(straight), all, 700);

  // Killed after committing 1000 with more rows buffered; a new instance resumes from 1000.
  const crashed = folderDestination(join(dir, 'b'));
  const commits = await feed(sink(crashed), all.slice(0, 1100), 550);
  expect(commits.at(-1)).toBe('1000');
  await feed(sink(crashed), all.slice(1000), 130);
  expect(await files(crashed)).toEqual(await files(straight));
});

test('records read again (a retried batch, a commit lost before a crash) are not archived twice', async () => {
  const dest = folderDestination(dir);
  const first = sink(dest);
  const all = records(0, 0, times.slice(0, 1200));
  await feed(first, all.slice(0, 600), 300);
  await feed(first, all.slice(300, 1200), 300); // the client fetched 300..599 again
  expect(await files(dest)).toEqual(['sensor_readings/date=2026-11-27/hour=10/0-0-999.parquet']);
  // A new instance that reads from 0 (the commit of 1000 was lost) skips what the manifests cover.
  await feed(sink(dest, { idleMs: 100_000 }), all, 400);
  expect(await files(dest)).toEqual(['sensor_readings/date=2026-11-27/hour=10/0-0-999.parquet']);
});

test('an idle file is closed by the timer, reported durable, and a rerun that closes it elsewhere replaces it', async () => {
  const dest = folderDestination(dir);
  let changed!: () => void;
  const reported = new Promise<void>((res) => (changed = res));
  const s = sink(dest, { idleMs: 50 }, () => changed());
  const all = records(1, 0, times.slice(0, 900));
  await feed(s, all.slice(0, 400), 400, 1);
  expect(s.durable!({ topic, partition: 1 })).toBe('0');
  await reported;
  expect(s.durable!({ topic, partition: 1 })).toBe('400');
  expect(await files(dest)).toEqual(['sensor_readings/date=2026-11-27/hour=10/1-0-399.parquet']);

  // The manifest of 0-399 is lost (a crash between the upload and the manifest): the rerun reads
  // 0..899 without a pause and closes 0-899 instead; the object 0-399 must not stay beside it.
  await dest.delete('sensor_readings/_manifests/partition=1/00000000000000000000-00000000000000000399.json');
  await feed(sink(dest, { maxRows: 900 }), all, 300, 1);
  expect(await files(dest)).toEqual(['sensor_readings/date=2026-11-27/hour=10/1-0-899.parquet']);
  expect(await dest.list('sensor_readings/_manifests/')).toEqual(['sensor_readings/_manifests/partition=1/00000000000000000000-00000000000000000899.json']);
});

test('an idle close refused once (the membership unconfirmed during a rebalance) is tried again: an idle partition does not stay uncommitted', async () => {
  // The long fault profile: the devices had stopped, an archiver's idle close met a rebalance, and
  // partition 5 kept 775 records uncommitted for the whole drain (no write came to close the file).
  const dest = folderDestination(dir);
  let refused = false;
  const member = async () => {
    if (refused) return;
    refused = true;
    throw new SluiceError('not writing: the client is rejoining the group', { retriable: true });
  };
  let changed!: () => void;
  const reported = new Promise<void>((res) => (changed = res));
  const s = sink(dest, { idleMs: 20 }, () => changed(), member);
  await feed(s, records(5, 0, times.slice(0, 300)), 300, 5);
  await reported;
  expect(refused).toBe(true);
  expect(s.durable!({ topic, partition: 5 })).toBe('300');
  expect(await files(dest)).toEqual(['sensor_readings/date=2026-11-27/hour=10/5-0-299.parquet']);
});

test('a reading the format cannot hold is rejected to the dead-letter topic, and the rest is archived', async () => {
  const dest = folderDestination(dir);
  const s = sink(dest, { maxRows: 3 });
  const recs = records(0, 0, [base, -5, base + 1, base + 2]);
  const rejected: string[] = [];
  await s.write(recs, { topic, partition: 0, nextOffset: '4' }, (r, reason, err) => rejected.push(`${(r.value as { offset: string }).offset} ${reason} ${err.message}`), sendDeadLetters);
  expect(rejected).toEqual([expect.stringMatching(/^1 invalid a reading needs time .* partition 0 offset 1$/)]);
  expect(await files(dest)).toEqual(['sensor_readings/date=2026-11-27/hour=10/0-0-3.parquet']);
  expect(s.durable!({ topic, partition: 0 })).toBe('4');
});

test('a file also closes on its estimated size, a function of its rows only', async () => {
  const dest = folderDestination(dir);
  // Each of these rows counts 64 + 2 × (5 + 11 + 2) = 100 bytes.
  await feed(sink(dest, { maxBytes: 1000 }), records(0, 0, times.slice(0, 25)), 25);
  expect(await files(dest)).toEqual(['sensor_readings/date=2026-11-27/hour=10/0-0-9.parquet', 'sensor_readings/date=2026-11-27/hour=10/0-10-19.parquet']);
});
