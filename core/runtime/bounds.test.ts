import { EndOffsets } from './bounds.ts';

const batch = (partition: number, offsets: number[]) => ({
  topic: 't', partition, highWatermark: '100', records: offsets.map((o) => ({ offset: String(o), key: null, value: null, timestamp: 0, headers: {} })),
});
const offsets = (b: { records: { offset: string }[] }) => b.records.map((r) => Number(r.offset));

test('a bounded run reads each partition up to its end and finishes once all are processed there', async () => {
  const bounds = new EndOffsets(new Map([[0, '10'], [1, '5'], [2, '7']]), new Map([[0, '3'], [1, '5'], [2, '0']]));
  let finished = false;
  void bounds.finished.then(() => (finished = true));
  expect(offsets(bounds.clip(batch(0, [3, 4, 5])))).toEqual([3, 4, 5]);
  expect(offsets(bounds.clip(batch(0, [8, 9, 10, 11])))).toEqual([8, 9]);
  expect(offsets(bounds.clip(batch(1, [5, 6])))).toEqual([]); // partition 1 starts at its end
  expect(offsets(bounds.clip(batch(3, [0])))).toEqual([]); // not in the plan
  bounds.reached(0, '12');
  bounds.reached(2, '6');
  await Promise.resolve();
  expect(finished).toBe(false);
  bounds.reached(2, '7');
  await bounds.finished;
  expect(finished).toBe(true);
});

test('a run with nothing to read is finished at once', async () => {
  await expect(new EndOffsets(new Map([[0, '4']]), new Map([[0, '4']])).finished).resolves.toBeUndefined();
});
