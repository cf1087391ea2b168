import { ReplayProgress } from './progress.ts';

const plan = {
  topic: 'in', from: 0, records: 10_000n,
  partitions: [{ partition: 0, start: '1000', end: '5000', records: 4000n }, { partition: 1, start: '0', end: '6000', records: 6000n }],
};

test('progress counts the offsets done towards each partition\'s end and estimates the rest', () => {
  const p = new ReplayProgress(plan, 0);
  expect(p.line(1000)).toBe(`[${'.'.repeat(30)}]   0%  0/10,000 records  0 records/s  ETA ?`);
  p.update(0, '3000');
  p.update(1, '3000');
  expect(p.line(2000)).toBe(`[${'#'.repeat(15)}${'.'.repeat(15)}]  50%  5,000/10,000 records  2,500 records/s  ETA 2s`);
  p.update(0, '7000'); // a batch that went past the end counts up to the end
  p.update(1, '6000');
  expect(p.done()).toBe(10_000);
  expect(p.summary(4000)).toBe('replayed 10,000 records of in in 4s (2,500 records/s)');
});
