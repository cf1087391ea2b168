import { TopologyTestDriver } from '../core/testing/index.ts';
import { alertingTopology } from './alerting.ts';
import type { Reading } from '../schemas/records.ts';
import type { Alert } from '../schemas/records.ts';

const T0 = Date.UTC(2026, 10, 27, 10);
const SEC = 1000;
const reading = (device: string, second: number, value: number, sensor = 'temperature') =>
  ({ key: device, value: { device_id: device, sensor_type: sensor, value, unit: '', time: T0 + second * SEC, ingest_time: T0 + second * SEC } satisfies Reading });
const driver = (env: Record<string, string> = {}) => new TopologyTestDriver(alertingTopology({}, env), { wallClock: T0 + 3_600_000 });
const alerts = (d: TopologyTestDriver<Reading>) => d.output('table').map((o) => o.value as Alert);

test('a device that stays hot raises one alert, which clears after the value has been back under threshold − hysteresis long enough', () => {
  const d = driver({ ALERT_THRESHOLD: '35', ALERT_HYSTERESIS: '1', ALERT_CLEAR_AFTER_MS: '60000' });
  d.pipe(reading('a', 0, 30), reading('a', 10, 36), reading('a', 20, 37), reading('a', 30, 34.5), reading('a', 40, 36));
  expect(alerts(d)).toEqual([{
    id: `a:temperature:temperature-high:${T0 + 10 * SEC}`, device_id: 'a', sensor_type: 'temperature', rule: 'temperature-high', severity: 'critical',
    message: 'temperature 36 above 35', value: 36, opened_at: T0 + 10 * SEC, cleared_at: null,
  }]);
  d.pipe(reading('a', 50, 33.9), reading('a', 100, 33), reading('a', 109, 33.5)); // recovered since 50 s, not yet 60 s
  expect(alerts(d)).toHaveLength(1);
  d.pipe(reading('a', 110, 33));
  expect(alerts(d).map((a) => [a.id, a.cleared_at])).toEqual([[`a:temperature:temperature-high:${T0 + 10 * SEC}`, null], [`a:temperature:temperature-high:${T0 + 10 * SEC}`, T0 + 110 * SEC]]);
  // Every alert goes to the topic as well, keyed by its id.
  expect(d.output('topic').map((o) => o.key)).toEqual(alerts(d).map((a) => a.id));
});

test('bounds per sensor type and rate of change', () => {
  const d = driver({ ALERT_BOUNDS: '{"humidity":{"min":20,"max":80}}', ALERT_RATE_PER_MINUTE: '{"pressure":5}' });
  d.pipe(reading('a', 0, 15, 'humidity'), reading('b', 0, 1000, 'pressure'), reading('b', 60, 1002, 'pressure'), reading('b', 120, 1010, 'pressure'));
  expect(alerts(d).map((a) => [a.device_id, a.rule])).toEqual([['a', 'humidity-low'], ['b', 'pressure-rate']]);
});

test('a silent device raises `silent` on the wall clock, cleared by its next reading', () => {
  const d = driver({ ALERT_SILENT_AFTER_MS: '300000' });
  d.pipe(reading('a', 0, 20));
  d.advanceWallClock(299_000);
  expect(alerts(d)).toEqual([]);
  d.advanceWallClock(1000);
  d.advanceWallClock(60_000); // still silent: no second alert
  expect(alerts(d).map((a) => [a.rule, a.cleared_at])).toEqual([['silent', null]]);
  d.pipe(reading('a', 400, 20));
  expect(alerts(d).map((a) => [a.rule, a.cleared_at === null])).toEqual([['silent', true], ['silent', false]]);
});

test('after a restart from the changelog, an open alert is neither raised again nor forgotten', () => {
  const d = driver({ ALERT_CLEAR_AFTER_MS: '0' });
  d.pipe(reading('a', 0, 40));
  d.restart();
  d.pipe(reading('a', 10, 41), reading('a', 20, 30));
  expect(alerts(d).map((a) => a.cleared_at)).toEqual([null, T0 + 20 * SEC]);
});

test('in a replay, an episode already breached at a sensor\'s first replayed reading is followed but not sent; later ones are', () => {
  const replayed = { from: T0, to: Infinity };
  const d = new TopologyTestDriver(alertingTopology({}, { ALERT_CLEAR_AFTER_MS: '0' }), { wallClock: T0 + 3_600_000, replayed });
  // a: hot from its first replayed reading (opened before the range, live); cools, then a new episode.
  // b: fine at first, then hot: an episode that opens inside the range.
  d.pipe(reading('a', 0, 40), reading('b', 0, 20), reading('a', 10, 41), reading('b', 10, 40), reading('a', 20, 30), reading('a', 30, 39), reading('b', 20, 30));
  expect(alerts(d).map((a) => [a.id, a.cleared_at])).toEqual([
    [`b:temperature:temperature-high:${T0 + 10 * SEC}`, null],
    [`a:temperature:temperature-high:${T0 + 30 * SEC}`, null],
    [`b:temperature:temperature-high:${T0 + 10 * SEC}`, T0 + 20 * SEC],
  ]);
  // Live (no replay), the same readings open a's first episode at its first reading.
  const live = driver({ ALERT_CLEAR_AFTER_MS: '0' });
  live.pipe(reading('a', 0, 40), reading('a', 10, 41), reading('a', 20, 30));
  expect(alerts(live).map((a) => [a.id, a.cleared_at])).toEqual([[`a:temperature:temperature-high:${T0}`, null], [`a:temperature:temperature-high:${T0}`, T0 + 20 * SEC]]);
});

test('bad settings are refused by name', () => {
  expect(() => alertingTopology({}, { ALERT_BOUNDS: 'not json' })).toThrow(/ALERT_BOUNDS/);
  expect(() => alertingTopology({}, { ALERT_BOUNDS: '{"humidity":{"min":90,"max":10}}' })).toThrow('ALERT_BOUNDS: humidity: min must be below max');
});
