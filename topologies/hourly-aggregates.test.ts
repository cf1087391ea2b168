import { TopologyTestDriver } from '../core/testing/index.ts';
import { hourlyAggregatesTopology } from './hourly-aggregates.ts';
import type { Reading } from '../schemas/records.ts';

const T0 = Date.UTC(2026, 10, 27, 10);
const MIN = 60_000;
const reading = (device: string, minute: number, value: number, sensor = 'temperature') =>
  ({ key: device, value: { device_id: device, sensor_type: sensor, value, unit: '°C', time: T0 + minute * MIN, ingest_time: T0 + minute * MIN } satisfies Reading });
const driver = (env: Record<string, string> = {}) => new TopologyTestDriver(hourlyAggregatesTopology({}, { HOURLY_IDLE_MS: '0', ...env }), { wallClock: T0 + 3 * 60 * MIN });

test('one row per device, sensor and hour once the hour plus its grace has passed', () => {
  const d = driver();
  d.pipe(reading('a', 0, 20), reading('a', 59.99, 24), reading('a', 30, 22, 'humidity'), reading('b', 61, 30));
  expect(d.output('table')).toEqual([]);
  d.pipe(reading('b', 69.99, 30)); // 11:09:59: still within the 10 minutes of grace
  expect(d.output('table')).toEqual([]);
  d.pipe(reading('b', 70, 30)); // 11:10 closes 10:00–11:00
  expect(d.output('table').map((o) => o.value)).toEqual([
    { kind: 'final', bucket: T0, device_id: 'a', sensor_type: 'humidity', avg_value: 22, min_value: 22, max_value: 22, count: 1, sum: 22 },
    { kind: 'final', bucket: T0, device_id: 'a', sensor_type: 'temperature', avg_value: 22, min_value: 20, max_value: 24, count: 2, sum: 44 },
  ]);
  expect(d.output('topic').map((o) => o.value)).toContainEqual({ device_id: 'a', sensor_type: 'temperature', bucket: T0, bucket_end: T0 + 60 * MIN, count: 2, sum: 44, min: 20, max: 24, avg: 22 });
});

test('a reading later than the grace is dead-lettered as late and its hour is sent for repair', () => {
  const d = driver();
  d.pipe(reading('a', 10, 20), reading('a', 75, 21), reading('a', 20, 99));
  expect(d.deadLetters().map((x) => [x.offset, x.reason])).toEqual([['2', 'late']]);
  expect(d.output('table').map((o) => o.value)).toEqual([
    expect.objectContaining({ kind: 'final', bucket: T0, count: 1 }),
    { kind: 'late', device_id: 'a', sensor_type: 'temperature', value: 99, unit: '°C', time: T0 + 20 * MIN },
  ]);
});

test('the idle timeout closes the last hour of a device that went silent', () => {
  const d = driver({ HOURLY_IDLE_MS: String(15 * MIN) });
  d.pipe(reading('a', 170, 20)); // 12:50; the hour closes at 13:10 of event time
  d.advanceWallClock(15 * MIN);
  expect(d.output('table')).toEqual([]);
  d.advanceWallClock(5 * MIN);
  expect(d.output('table').map((o) => (o.value as { bucket: number }).bucket)).toEqual([T0 + 2 * 60 * MIN]);
});

test('settings are checked by name', () => {
  expect(() => hourlyAggregatesTopology({}, { HOURLY_GRACE_MS: '-1' })).toThrow(/HOURLY_GRACE_MS/);
});
