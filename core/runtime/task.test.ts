import { filter, map, mergeMap, delay, of } from 'rxjs';
import { Task } from './task.ts';
import type { InRecord, OutRecord } from '../topology.ts';

const t0 = Date.UTC(2026, 10, 27);
const rec = (offset: number, value: number, time = t0 + offset): InRecord<{ v: number; time: number }> =>
  ({ topic: 't', partition: 0, offset: String(offset), key: `k${offset}`, value: { v: value, time }, timestamp: 0, eventTime: 0, headers: {} });
const out = (r: InRecord<{ v: number }>): OutRecord => ({ to: 'out', key: r.key, value: r.value.v * 2 });
const task = (pipeline: ConstructorParameters<typeof Task<{ v: number; time: number }>>[0]) => new Task(pipeline, { topology: 't', partition: 0, now: () => t0 + 60_000 });

test('each batch returns exactly the outputs its records caused, in order', () => {
  const t = task((src) => src.pipe(filter((r) => r.value.v % 2 === 0), map(out)));
  expect(t.process([rec(0, 1), rec(1, 2), rec(2, 4)]).outputs.map((o) => o.value)).toEqual([4, 8]);
  expect(t.process([rec(3, 6)]).outputs.map((o) => o.value)).toEqual([12]);
  expect(t.process([]).outputs).toEqual([]);
});

test('records get their event time from the value, and bad times are dead-lettered', () => {
  const t = task((src) => src.pipe(map((r) => ({ to: 'out', key: r.key, value: r.eventTime }))));
  const result = t.process([rec(0, 1), rec(1, 1, t0 + 3_600_000), rec(2, 1, 946_684_799_999), rec(3, 1)]);
  expect(result.outputs.map((o) => o.value)).toEqual([t0, t0 + 3]);
  expect(result.deadLetters.map((d) => [d.record.offset, d.reason])).toEqual([['1', 'timestamp'], ['2', 'timestamp']]);
  expect(result.deadLetters[0]!.error.message).toContain('ahead of the wall clock');
  expect(result.deadLetters[1]!.error.message).toContain('before the floor 2000-01-01T00:00:00.000Z');
  // Quarantined records did not move stream time.
  expect(t.context.streamTime()).toBe(t0 + 3);
});

// Each record is emitted twice; the second copy of a negative one throws, after the first went out.
const throwsOnNegative = (src: Parameters<Parameters<typeof task>[0]>[0]) => src.pipe(mergeMap((r) => [r, r]), map((r, i) => {
  if (r.value.v < 0 && i % 2 === 1) throw new Error('negative reading');
  return out(r);
}));

test('by default a record the pipeline throws on is dead-lettered with reason pipeline, without its outputs, and the pipeline goes on', () => {
  const t = task(throwsOnNegative);
  const result = t.process([rec(5, 1), rec(6, -1), rec(7, 3)]);
  expect(result.outputs.map((o) => o.value)).toEqual([2, 2, 6, 6]);
  expect(result.deadLetters.map((d) => [d.record.offset, d.reason, d.error.message])).toEqual([['6', 'pipeline', 'negative reading']]);
  expect(t.process([rec(8, -2), rec(9, 4)]).outputs.map((o) => o.value)).toEqual([8, 8]);
});

test('with onPipelineError fail, a pipeline error names the record that caused it', () => {
  const t = new Task(throwsOnNegative, { topology: 't', partition: 0, now: () => t0 + 60_000, onPipelineError: 'fail' });
  expect(() => t.process([rec(5, 1), rec(6, -1)])).toThrow('pipeline failed at t/0@6: negative reading');
});

test('an operator that emits later is refused instead of losing track of offsets', async () => {
  const t = task((src) => src.pipe(mergeMap((r) => of(out(r)).pipe(delay(1)))));
  expect(t.process([rec(0, 1)]).outputs).toEqual([]);
  await new Promise((r) => setTimeout(r, 10));
  expect(() => t.process([rec(1, 1)])).toThrow(/emitted outside a batch/);
});
