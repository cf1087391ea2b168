import type { Watermarks } from '../kafka/adapter.ts';
import { formatPlan, planReplay } from './plan.ts';

const t0 = Date.UTC(2026, 10, 27, 8);
/** A topic of two partitions; records at `t0 + offset` seconds; partition 1 lost offsets below 50 to retention. */
function fakeKafka() {
  const marks: Watermarks[] = [{ partition: 1, low: '50', high: '200' }, { partition: 0, low: '0', high: '100' }];
  const at = (p: number, time: number) => {
    const { low, high } = marks.find((m) => m.partition === p)!;
    const o = Math.max(Number(low), Math.ceil((time - t0) / 1000));
    return String(Math.min(o, Number(high)));
  };
  return {
    watermarks: async () => marks.map((m) => ({ ...m })),
    offsetsForTime: async (_topic: string, time: number) => new Map([0, 1].map((p) => [p, at(p, time)])),
    firstTimestamps: async (_topic: string, partitions: readonly number[]) => new Map(partitions.map((p) => [p, t0 + Number(marks.find((m) => m.partition === p)!.low) * 1000])),
  };
}

test('the plan gives each partition the offsets of the range and the records between them', async () => {
  const plan = await planReplay(fakeKafka(), 'in', { from: t0 + 60_000, to: t0 + 90_000 });
  expect(plan.partitions).toEqual([
    { partition: 0, start: '60', end: '90', records: 30n },
    { partition: 1, start: '60', end: '90', records: 30n },
  ]);
  expect(plan.records).toBe(60n);
  expect(formatPlan(plan)).toBe([
    'replay of in from 2026-11-27T08:01:00.000Z to 2026-11-27T08:01:30.000Z (Kafka record timestamps)',
    'partition  start offset  end offset  records',
    '0                    60          90       30',
    '1                    60          90       30',
    'total                                     60',
  ].join('\n'));
});

test('a range that begins before what retention kept says which data is no longer in Kafka', async () => {
  const plan = await planReplay(fakeKafka(), 'in', { from: t0 });
  expect(plan.partitions.map((p) => [p.start, p.end, p.goneBefore])).toEqual([['0', '100', undefined], ['50', '200', t0 + 50_000]]);
  expect(formatPlan(plan)).toContain('data before 2026-11-27T08:00:50.000Z is no longer in Kafka (retention): partition 1 starts at offset 50, 2026-11-27T08:00:50.000Z');
  // From a time after the log start, nothing is missing.
  expect(formatPlan(await planReplay(fakeKafka(), 'in', { from: t0 + 50_000 }))).not.toContain('no longer');
});

test('a range after the last record is empty', async () => {
  const plan = await planReplay(fakeKafka(), 'in', { from: t0 + 1_000_000 });
  expect(plan.partitions.map((p) => [p.start, p.end])).toEqual([['100', '100'], ['200', '200']]);
  expect(plan.records).toBe(0n);
});
