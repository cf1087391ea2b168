import { readingFor } from './simulate.ts';

test('normal readings stay in their sensor range; anomalies are temperatures above the alert threshold', () => {
  const lows = readingFor('temperature', false, 35, () => 0);
  const highs = readingFor('temperature', false, 35, () => 0.999);
  expect([lows, highs]).toEqual([18, 28]);
  expect(readingFor('co2', false, 35, () => 0.5)).toBe(800);
  for (const r of [0, 0.5, 0.999]) expect(readingFor('temperature', true, 35, () => r)).toBeGreaterThan(35);
});
