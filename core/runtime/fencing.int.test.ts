import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connectKafka } from '../kafka/adapter.ts';
import { createLogger } from '../log.ts';
import { changelogTopic } from '../naming.ts';
import { POSITION_KEY, type Position } from '../state/changelog.ts';
import {
  brokers, createTopics, produce, readAll, registerReadings, startInstance, total, untilCaughtUp, waitFor, type Instance,
} from './testdata/harness.ts';
import type { AvroSerde } from '../serde/avro.ts';
import type { Reading } from './testdata/topologies.ts';

jest.setTimeout(240_000);

// Readings per device and hour (the windowed count of testdata/topologies.ts) through rebalances:
// 30,000 readings over five hours; hours 0–3 close, hour 4 stays open.
const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 2);
const devices = 40;
const readings = Array.from({ length: 30_000 }, (_, i): Reading => {
  const time = T + i * 600;
  return { device_id: `dev-${i % devices}`, sensor_type: 'temperature', value: 20, unit: '°C', time, ingest_time: time };
});
const expected = new Map<string, number>();
for (const r of readings) {
  const start = r.time - (r.time % HOUR);
  if (start < T + 4 * HOUR) expected.set(`${r.device_id}@${start}`, (expected.get(`${r.device_id}@${start}`) ?? 0) + 1);
}
const half = readings.length / 2; // hours 0 and 1 close in the first half, 2 and 3 in the second

const running: Instance[] = [];
afterEach(() => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
});
const base = `fence-${Date.now()}-${randomBytes(2).toString('hex')}`;
let serde: AvroSerde<Reading>;

function start(run: string, input: string, label: string, env: Record<string, string> = {}): Instance {
  const inst = startInstance(`${run}-windowed-count`, run, label, { SLUICE_TEST_INPUT: input, ...env });
  running.push(inst);
  return inst;
}
async function stop(inst: Instance): Promise<void> {
  inst.child.kill('SIGTERM');
  expect(await inst.exited).toBe(0);
  running.splice(running.indexOf(inst), 1);
}
const logOf = (i: Instance) => (existsSync(i.log) ? readFileSync(i.log, 'utf8') : '');
const untilAssigned = (i: Instance, what = 'the assignment') =>
  waitFor(what, async () => (/"msg":"partitions assigned"/.test(logOf(i)) ? true : undefined), 60_000);
/** Sends `rs` in pieces of `size`, so that the instance reads them in several batches. */
async function sendInPieces(send: (rs: Reading[]) => Promise<void>, rs: Reading[], size: number): Promise<void> {
  for (let i = 0; i < rs.length; i += size) await send(rs.slice(i, i + size));
}

/** The counts a run wrote, by device and window start: every window written once, or again with the same count. */
async function results(run: string): Promise<{ counts: Map<string, number>; conflicting: string[] }> {
  const counts = new Map<string, number>();
  const conflicting: string[] = [];
  for (const r of await readAll(`${run}.out`, Number(await total(`${run}.out`)))) {
    const v = serde.decode(r.value);
    const k = `${v.device_id}@${v.time}`;
    if (counts.has(k) && counts.get(k) !== v.value) conflicting.push(`${k}: ${counts.get(k)} then ${v.value}`);
    counts.set(k, v.value);
  }
  return { counts, conflicting };
}
const untilAllWindows = (run: string) => waitFor(`${run}: every closed window written`, async () => {
  const got = await results(run);
  return got.counts.size >= expected.size ? got : undefined;
}, 180_000);

/** The positions of each partition's changelog records, in the order they were written. */
async function changelogPositions(run: string): Promise<Map<number, bigint[]>> {
  const adapter = await connectKafka(brokers, 'sluice-test', createLogger('test', 'silent', 'stderr'));
  const positions = new Map<number, bigint[]>();
  try {
    await adapter.readToEnd(changelogTopic(`${run}-windowed-count`, 'counts'), [0, 1, 2, 3, 4, 5], (p, records) => {
      for (const r of records) {
        if (r.key?.toString() !== POSITION_KEY) continue;
        const list = positions.get(p) ?? [];
        list.push(BigInt((JSON.parse(r.value!.toString()) as Position).offset));
        positions.set(p, list);
      }
    });
  } finally {
    await adapter.close();
  }
  return positions;
}
const wentBack = (positions: Map<number, bigint[]>) =>
  [...positions].flatMap(([p, list]) => list.flatMap((o, i) => (i > 0 && o < list[i - 1]! ? [`partition ${p}: ${list[i - 1]} then ${o}`] : [])));

async function input(name: string): Promise<(rs: Reading[]) => Promise<void>> {
  const topic = `${base}-${name}.in`;
  await createTopics([topic, `${base}-${name}.out`]);
  serde = await registerReadings(topic, `${base}-${name}.out`);
  return (rs) => produce(topic, rs.map((r) => ({ key: r.device_id, value: serde.encode(r) })));
}

test('a partition kept through a rebalance is fetched again from its commit, and its task does not count those records twice', async () => {
  const run = `${base}-kept`;
  const send = await input('kept');
  const topic = `${run}.in`;
  // A changelog written only every 10 minutes: the commit stays at the start while the task goes on.
  const env = { SLUICE_COMMIT_INTERVAL_MS: '600000' };
  const first = start(run, topic, 'kept-1', env);
  await send(readings.slice(0, half));
  // Hours 0 and 1 closed in every partition: the first instance has read well past its commit.
  await waitFor('hours 0 and 1 written', async () => ((await results(run)).counts.size >= 2 * devices ? true : undefined), 120_000);

  const second = start(run, topic, 'kept-2', env);
  await untilAssigned(second, 'the rebalance');
  await send(readings.slice(half));
  const got = await untilAllWindows(run);
  await stop(second);
  await stop(first);
  expect(got.conflicting).toEqual([]);
  expect(got.counts).toEqual(expected);
});

test('a member paused past the session timeout just before its changelog write writes nothing when it resumes, and starts again from what is durable', async () => {
  const run = `${base}-paused`;
  const send = await input('paused');
  const topic = `${run}.in`;
  await send(readings.slice(0, half));
  // Changelog after every batch; the fifth write finds the process stopped (SIGSTOP) just before it.
  const paused = start(run, topic, 'paused', { SLUICE_FAULT: 'task.before-send:5:stop', SLUICE_COMMIT_INTERVAL_MS: '0' });
  await waitFor('the pause', async () => (readFileSync(`/proc/${paused.child.pid}/stat`, 'utf8').split(' ')[2] === 'T' ? true : undefined), 60_000);

  // The other member gets every partition once the session (6 s) has expired, and reads it all.
  const other = start(run, topic, 'other');
  await untilCaughtUp(`${run}-windowed-count`, topic, 120_000, other);
  const before = await changelogPositions(run);

  paused.child.kill('SIGCONT');
  await waitFor('the paused member to rejoin', async () => (/rejoined the group after losing its membership/.test(logOf(paused)) ? true : undefined), 60_000);
  expect(logOf(paused)).toMatch(/not writing: no heartbeat for \d+ s/);
  await send(readings.slice(half));
  await untilCaughtUp(`${run}-windowed-count`, topic, 120_000, other);
  const got = await untilAllWindows(run);
  await stop(other);
  await stop(paused);

  expect(wentBack(before)).toEqual([]);
  expect(wentBack(await changelogPositions(run))).toEqual([]);
  expect(got.conflicting).toEqual([]);
  expect(got.counts).toEqual(expected);
});

test('a member paused inside its changelog write, after its ownership check, cannot write over the new owner when it resumes', async () => {
  const run = `${base}-stale`;
  const send = await input('stale');
  const topic = `${run}.in`;
  // The fifth changelog write passes the membership check, then the process stops (SIGSTOP) just before its send.
  const paused = start(run, topic, 'stale', { SLUICE_FAULT: 'task.sending:5:stop', SLUICE_COMMIT_INTERVAL_MS: '0' });
  await untilAssigned(paused);
  // Sent in small pieces, so that the stopped write is of an early batch and the next owner gets further.
  await sendInPieces(send, readings.slice(0, half), 500);
  await waitFor('the pause', async () => (readFileSync(`/proc/${paused.child.pid}/stat`, 'utf8').split(' ')[2] === 'T' ? true : undefined), 60_000);

  // The other member takes every partition and reads the first half; then the paused one's send goes out.
  const other = start(run, topic, 'other');
  await untilCaughtUp(`${run}-windowed-count`, topic, 120_000, other);
  paused.child.kill('SIGCONT');
  await waitFor('the paused member to rejoin', async () => (/rejoined the group after losing its membership/.test(logOf(paused)) ? true : undefined), 60_000);
  await stop(paused);
  await stop(other);

  // A new member restores every partition from the changelogs and reads the second half.
  const next = start(run, topic, 'next');
  await send(readings.slice(half));
  await untilCaughtUp(`${run}-windowed-count`, topic, 120_000, next);
  const got = await untilAllWindows(run);
  await stop(next);

  expect(got.conflicting).toEqual([]);
  expect(got.counts).toEqual(expected);
  expect(wentBack(await changelogPositions(run))).toEqual([]);
});

test('a batch whose commit failed is fetched again, and its task does not count it twice', async () => {
  const run = `${base}-commit`;
  const send = await input('commit');
  const topic = `${run}.in`;
  // The third commit fails (as when Kafka is killed or paused): kafkajs fetches that batch again.
  const inst = start(run, topic, 'commit', { SLUICE_FAULT: 'runtime.before-commit:3:throw', SLUICE_COMMIT_INTERVAL_MS: '0' });
  await untilAssigned(inst);
  await sendInPieces(send, readings, 1000);
  const got = await untilAllWindows(run);
  await stop(inst);
  expect(logOf(inst)).toMatch(/fault point runtime.before-commit: an injected failure/);
  expect(got.conflicting).toEqual([]);
  expect(got.counts).toEqual(expected);
});
