import { filter, map, mergeMap, delay, of } from 'rxjs';
import { Task } from './task.ts';
import type { InRecord, OutRecord } from '../topology.ts';

const rec = (offset: number, value: number): InRecord<number> => ({ topic: 't', partition: 0, offset: String(offset), key: `k${offset}`, value, timestamp: 0, headers: {} });
const out = (r: InRecord<number>): OutRecord => ({ to: 'out', key: r.key, value: r.value * 2 });

test('each batch returns exactly the outputs its records caused, in order', () => {
  const task = new Task<number>((src) => src.pipe(filter((r) => r.value % 2 === 0), map(out)));
  expect(task.process([rec(0, 1), rec(1, 2), rec(2, 4)]).map((o) => o.value)).toEqual([4, 8]);
  expect(task.process([rec(3, 6)]).map((o) => o.value)).toEqual([12]);
  expect(task.process([])).toEqual([]);
});

test('a pipeline error names the record that caused it', () => {
  const task = new Task<number>((src) => src.pipe(map((r) => {
    if (r.value < 0) throw new Error('negative reading');
    return out(r);
  })));
  expect(() => task.process([rec(5, 1), rec(6, -1)])).toThrow('pipeline failed at t/0@6: negative reading');
});

test('an operator that emits later is refused instead of losing track of offsets', async () => {
  const task = new Task<number>((src) => src.pipe(mergeMap((r) => of(out(r)).pipe(delay(1)))));
  expect(task.process([rec(0, 1)])).toEqual([]);
  await new Promise((r) => setTimeout(r, 10));
  expect(() => task.process([rec(1, 1)])).toThrow(/emitted outside a batch/);
});
