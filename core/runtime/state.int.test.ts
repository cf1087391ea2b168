import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  caughtUp, createTopics, produce, readAll, registerReadings, startInstance, total, untilCaughtUp, waitFor, type Instance,
} from './testdata/harness.ts';
import type { AvroSerde } from '../serde/avro.ts';
import type { Reading } from './testdata/topologies.ts';

jest.setTimeout(240_000);

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 1);
const devices = 40;
// 60,000 readings over six hours, in time order; 40 devices spread over the 6 partitions.
const readings = Array.from({ length: 60_000 }, (_, i): Reading => {
  const time = T + i * 360;
  return { device_id: `dev-${i % devices}`, sensor_type: 'temperature', value: 20, unit: '°C', time, ingest_time: time };
});
// Hours 0–4 close (every partition sees hour 5); hour 5 stays open.
const expected = new Map<string, number>();
for (const r of readings) {
  const start = r.time - (r.time % HOUR);
  if (start < T + 5 * HOUR) expected.set(`${r.device_id}@${start}`, (expected.get(`${r.device_id}@${start}`) ?? 0) + 1);
}

const running: Instance[] = [];
afterEach(() => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
});
const base = `st-${Date.now()}-${randomBytes(2).toString('hex')}`;
const input = `${base}.in`;
let serde: AvroSerde<Reading>;

function start(run: string, label: string, env: Record<string, string> = {}): Instance {
  const inst = startInstance(`${run}-windowed-count`, run, label, { SLUICE_TEST_INPUT: input, ...env });
  running.push(inst);
  return inst;
}
async function stop(inst: Instance): Promise<void> {
  inst.child.kill('SIGTERM');
  expect(await inst.exited).toBe(0);
  running.splice(running.indexOf(inst), 1);
}
const send = (rs: Reading[]) => produce(input, rs.map((r) => ({ key: r.device_id, value: serde.encode(r) })));
const caughtUpWith = (run: string) => untilCaughtUp(`${run}-windowed-count`, input, 180_000);

/** The final counts a run wrote, by device and window start; a result written twice must agree with itself. */
async function results(run: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await readAll(`${run}.out`, Number(await total(`${run}.out`)))) {
    const v = serde.decode(r.value);
    const k = `${v.device_id}@${v.time}`;
    if (out.has(k)) expect(out.get(k)).toBe(v.value);
    out.set(k, v.value);
  }
  return out;
}

beforeAll(async () => {
  await createTopics([input]);
  serde = await registerReadings(input, ...['a', 'b', 'c'].map((r) => `${base}-${r}.out`));
  await send(readings);
});

test('an uninterrupted windowed count equals the counts computed from the input', async () => {
  const run = `${base}-a`;
  const inst = start(run, 'a');
  await caughtUpWith(run);
  await stop(inst);
  const got = await results(run);
  expect(got.size).toBe(expected.size);
  expect(got).toEqual(expected);
});

test('killed with SIGKILL between its changelog write and its commit, then restarted: the same final results', async () => {
  const run = `${base}-b`;
  // The third flush of changelog records is followed by a SIGKILL, before the offsets are committed.
  // (Changelog written after every batch here, so that the third write comes mid-stream.)
  const killed = start(run, 'b-killed', { SLUICE_FAULT: 'task.flushed:3', SLUICE_COMMIT_INTERVAL_MS: '0' });
  expect(await killed.exited).toBeNull();
  running.splice(running.indexOf(killed), 1);
  expect(await caughtUp(`${run}-windowed-count`, input)).toBe(false);

  const restarted = start(run, 'b-restarted');
  await caughtUpWith(run);
  await stop(restarted);
  expect(readFileSync(restarted.log, 'utf8')).toMatch(/"msg":"state restored"/);
  expect(await results(run)).toEqual(expected);
});

test('on a rebalance a partition\'s state moves to the other instance and the results stay right', async () => {
  const run = `${base}-c`;
  const topic = `${base}-c2.in`;
  await createTopics([topic]);
  await registerReadings(topic);
  // Its own input, fed in two halves: windows opened by the first instance close on the second.
  const c = (rs: Reading[]) => produce(topic, rs.map((r) => ({ key: r.device_id, value: serde.encode(r) })));
  const env = { SLUICE_TEST_INPUT: topic };
  const first = startInstance(`${run}-windowed-count`, run, 'c1', env);
  running.push(first);
  await c(readings.slice(0, 25_000));
  await untilCaughtUp(`${run}-windowed-count`, topic, 120_000);

  const second = startInstance(`${run}-windowed-count`, run, 'c2', env);
  running.push(second);
  const restoredState = () => existsSync(second.log) && /"records":[1-9][0-9]*,"msg":"state restored"/.test(readFileSync(second.log, 'utf8'));
  await waitFor('the second instance to restore state of its partitions', async () => (restoredState() ? true : undefined), 120_000);
  await c(readings.slice(25_000));
  await untilCaughtUp(`${run}-windowed-count`, topic, 120_000);
  await stop(second);
  await stop(first);
  expect(await results(run)).toEqual(expected);
});
