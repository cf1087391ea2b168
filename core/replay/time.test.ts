import { parseDuration, parseTime, replayGroup } from './time.ts';

test('times carry a timezone or are epoch milliseconds', () => {
  expect(parseTime('--from', '2026-11-27T08:00:00Z')).toBe(Date.UTC(2026, 10, 27, 8));
  expect(parseTime('--from', '2026-11-27T09:30+01:00')).toBe(Date.UTC(2026, 10, 27, 8, 30));
  expect(parseTime('--from', '2026-11-27T03:00:00.250-05:00')).toBe(Date.UTC(2026, 10, 27, 8, 0, 0, 250));
  expect(parseTime('--from', '1795766400000')).toBe(1_795_766_400_000);
});

test.each([
  ['2026-11-27T08:00:00', /--to must be ISO 8601 with a timezone .* got "2026-11-27T08:00:00"/],
  ['2026-11-27', /with a timezone/],
  ['yesterday', /with a timezone/],
  ['2026-02-30T00:00:00Z', /--to is not a valid date and time, got "2026-02-30T00:00:00Z"/],
  ['2026-11-27T25:00:00Z', /with a timezone|not a valid/],
])('%s is refused', (text, message) => {
  expect(() => parseTime('--to', text)).toThrow(message);
});

test('durations for --last', () => {
  expect(parseDuration('--last', '6h')).toBe(6 * 3_600_000);
  expect(parseDuration('--last', '90s')).toBe(90_000);
  expect(parseDuration('--last', '7d')).toBe(7 * 86_400_000);
  expect(() => parseDuration('--last', '6')).toThrow('--last must be a positive duration such as 90s, 15m, 6h or 7d, got "6"');
  expect(() => parseDuration('--last', '0h')).toThrow(/positive/);
});

test('a replay group names the topology and when the replay started, in UTC', () => {
  expect(replayGroup('timescale-sink', Date.UTC(2026, 10, 27, 8, 30, 5, 123))).toBe('timescale-sink.replay.20261127T083005.123Z');
});
