import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DLQ_HEADERS } from './dlq.ts';
import { DLQ_TOPIC } from '../naming.ts';
import {
  caughtUp, createTopics, produce, readAll, reading, registerReadings, startInstance, total, untilCaughtUp, waitFor, type Instance,
} from './testdata/harness.ts';

jest.setTimeout(180_000);

const newTest = () => `rt-${Date.now()}-${randomBytes(2).toString('hex')}`;
const running: Instance[] = [];
afterEach(() => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
});
function start(testId: string, label: string, env: Record<string, string> = {}): Instance {
  const inst = startInstance(`${testId}-passthrough`, testId, label, env);
  running.push(inst);
  return inst;
}
async function stopGracefully(inst: Instance): Promise<number | null> {
  inst.child.kill('SIGTERM');
  const code = await inst.exited;
  running.splice(running.indexOf(inst), 1);
  return code;
}
const logOf = (i: Instance) => readFileSync(i.log, 'utf8');

test('killed with SIGKILL mid-stream and restarted, a pass-through topology loses no record and commits the end offsets', async () => {
  const id = newTest();
  const [input, output] = [`${id}.in`, `${id}.out`];
  await createTopics([input, output]);
  const serde = await registerReadings(input, output);
  const n = 30_000;
  await produce(input, Array.from({ length: n }, (_, i) => ({ key: `k-${i}`, value: serde.encode(reading(i)) })));

  // Killed by its own SIGKILL before its third commit: outputs written, their offsets not committed.
  // (Killed from here once output appeared, it could finish all 30k records first.)
  const first = start(id, 'first', { SLUICE_FAULT: 'runtime.before-commit:3' });
  expect(await first.exited).toBe(null);
  running.splice(running.indexOf(first), 1);
  const beforeRestart = await total(output);
  expect(beforeRestart).toBeGreaterThan(0n);
  expect(await caughtUp(`${id}-passthrough`, input)).toBe(false);

  const second = start(id, 'second');
  await untilCaughtUp(`${id}-passthrough`, input, 120_000);
  expect(await stopGracefully(second)).toBe(0);
  expect(logOf(second)).toContain('"msg":"stopped"');

  const out = await readAll(output, Number(await total(output)));
  const keys = new Set(out.map((r) => r.key));
  const missing = Array.from({ length: n }, (_, i) => `k-${i}`).filter((k) => !keys.has(k));
  expect(missing).toEqual([]);
  expect(beforeRestart).toBeLessThan(BigInt(n)); // the kill really was mid-stream
  // Values survive decode → encode unchanged.
  const sample = out.find((r) => r.key === 'k-123')!;
  expect(serde.decode(sample.value)).toMatchObject({ ...reading(123), time_us: 0, time_source: 'device' });
});

test('two instances share the partitions, and the rebalance when the second joins loses nothing', async () => {
  const id = newTest();
  const [input, output] = [`${id}.in`, `${id}.out`];
  await createTopics([input, output]);
  const serde = await registerReadings(input, output);
  const batch = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ key: `k-${from + i}`, value: serde.encode(reading(from + i)) }));

  const a = start(id, 'a');
  await produce(input, batch(0, 10_000));
  await waitFor('instance a to produce output', async () => ((await total(output)) > 0n ? true : undefined));
  const b = start(id, 'b');
  await produce(input, batch(10_000, 10_000));
  await waitFor('both instances to be assigned partitions', async () =>
    /partitions assigned/.test(logOf(b)) && (logOf(a).match(/partitions assigned/g) ?? []).length >= 2 ? true : undefined);
  await produce(input, batch(20_000, 10_000));
  await untilCaughtUp(`${id}-passthrough`, input, 120_000);

  const owned = (i: Instance) => JSON.parse(logOf(i).split('\n').filter((l) => l.includes('partitions assigned')).at(-1)!).partitions as number[];
  expect([...owned(a), ...owned(b)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  expect(owned(a).length).toBeGreaterThan(0);
  expect(owned(b).length).toBeGreaterThan(0);

  expect(await Promise.all([stopGracefully(a), stopGracefully(b)])).toEqual([0, 0]);
  const out = await readAll(output, Number(await total(output)));
  const keys = new Set(out.map((r) => r.key));
  expect(Array.from({ length: 30_000 }, (_, i) => `k-${i}`).filter((k) => !keys.has(k))).toEqual([]);
});

test('poison records go to the dead-letter topic with their origin and reason, and the rest flows', async () => {
  const id = newTest();
  const [input, output] = [`${id}.in`, `${id}.out`];
  await createTopics([input, output], 1);
  const serde = await registerReadings(input, output);
  const good = serde.encode(reading(1));
  const poison: Record<string, Buffer> = {
    'bad-magic': Buffer.concat([Buffer.from([1]), good.subarray(1)]),
    'unknown-schema': Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), good.subarray(5)]),
    truncated: good.subarray(0, 12),
    'corrupt': Buffer.concat([good, Buffer.from([1, 2, 3])]),
    'too-short': Buffer.from([0, 1]),
  };
  const messages = [];
  for (let i = 0; i < 100; i++) messages.push({ key: `good-${i}`, value: serde.encode(reading(i)) });
  for (const [name, value] of Object.entries(poison)) messages.splice(10 * (messages.length % 9), 0, { key: `poison-${name}`, value });
  await produce(input, messages);

  const inst = start(id, 'poison');
  await untilCaughtUp(`${id}-passthrough`, input);

  // The operations endpoints tell the same story.
  const { opsPort } = JSON.parse(logOf(inst).split('\n').find((l) => l.includes('"msg":"started"'))!);
  const base = `http://127.0.0.1:${opsPort}`;
  expect((await fetch(`${base}/health`)).status).toBe(200);
  const ready = await fetch(`${base}/ready`);
  expect(ready.status).toBe(200);
  expect(((await ready.json()) as { checks: object }).checks).toEqual({ kafka: true, 'schema-registry': true, 'sink:out': true });
  const metrics = (await (await fetch(`${base}/metrics`)).text()).split('\n');
  const value = (name: string, label: string) => metrics.find((l) => l.startsWith(name) && l.includes(label))?.split(' ').at(-1);
  expect(value('sluice_dlq_records_total', 'reason="truncated"')).toBe('2');
  expect(value('sluice_dlq_records_total', 'reason="bad-magic"')).toBe('1');
  expect(value('sluice_records_in_total', 'partition="0"')).toBe('105');
  expect(value('sluice_records_out_total', 'sink="out"')).toBe('100');
  expect(value('sluice_consumer_lag', 'partition="0"')).toBe('0');
  expect(metrics.some((l) => l.startsWith('sluice_process_cpu_seconds_total{'))).toBe(true);
  expect(metrics.filter((l) => l.includes('process_process'))).toEqual([]);

  expect(await stopGracefully(inst)).toBe(0);
  const out = await readAll(output, 100);
  expect(out.map((r) => r.key).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `good-${i}`).sort());

  // The DLQ is shared: take the records from this test's topic.
  const dlq = (await readAll(DLQ_TOPIC, Number(await total(DLQ_TOPIC)))).filter((r) => r.headers[DLQ_HEADERS.topic] === input);
  expect(dlq.map((r) => r.key).sort()).toEqual(Object.keys(poison).map((p) => `poison-${p}`).sort());
  const reasons = Object.fromEntries(dlq.map((r) => [r.key, r.headers[DLQ_HEADERS.reason]]));
  expect(reasons).toEqual({
    'poison-bad-magic': 'bad-magic', 'poison-unknown-schema': 'unknown-schema', 'poison-truncated': 'truncated',
    'poison-corrupt': 'corrupt', 'poison-too-short': 'truncated',
  });
  for (const r of dlq) {
    expect(r.value).toEqual(poison[r.key!.slice('poison-'.length)]);
    expect(r.headers[DLQ_HEADERS.partition]).toBe('0');
    expect(r.headers[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
    expect(r.headers[DLQ_HEADERS.error]).not.toBe('');
    expect(Date.parse(r.headers[DLQ_HEADERS.time]!)).not.toBeNaN();
  }
});

test('by default a record the pipeline throws on goes to sluice.dlq with reason pipeline, and the rest goes on', async () => {
  const id = newTest();
  const [input, output] = [`${id}.in`, `${id}.out`];
  await createTopics([input, output], 1);
  const serde = await registerReadings(input, output);
  await produce(input, [0, 1, 2, 3].map((i) => ({ key: `k-${i}`, value: serde.encode({ ...reading(i), value: i === 1 ? -5 : 20 + i }) })));

  const inst = startInstance(`${id}-forgiving`, id, 'forgiving');
  running.push(inst);
  await untilCaughtUp(`${id}-forgiving`, input, 120_000, inst);
  const out = await readAll(output, 3);
  expect(out.map((r) => serde.decode(r.value).value)).toEqual([20, 22, 23]);
  const [dead] = await readAll(DLQ_TOPIC, 1, 60_000, { keep: (r) => r.headers[DLQ_HEADERS.topic] === input });
  expect(dead!.headers[DLQ_HEADERS.reason]).toBe('pipeline');
  expect(dead!.headers[DLQ_HEADERS.offset]).toBe('1');
  expect(dead!.headers[DLQ_HEADERS.error]).toContain('negative reading from dev-1');
  expect(await stopGracefully(inst)).toBe(0);
});

test('with onPipelineError fail, a pipeline that throws stops the process with exit 1, naming the record, and commits nothing past it', async () => {
  const id = newTest();
  const [input, output] = [`${id}.in`, `${id}.out`];
  await createTopics([input, output], 1);
  const serde = await registerReadings(input, output);
  await produce(input, [0, 1, 2].map((i) => ({ key: `k-${i}`, value: serde.encode({ ...reading(i), value: i === 1 ? -5 : 20 }) })));

  const inst = startInstance(`${id}-failing`, id, 'failing');
  running.push(inst);
  expect(await inst.exited).toBe(1);
  running.splice(running.indexOf(inst), 1);
  expect(logOf(inst)).toContain(`pipeline failed at ${input}/0@1: negative reading from dev-1`);
  expect(await caughtUp(`${id}-failing`, input)).toBe(false);
});
