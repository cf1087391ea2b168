import { compileTemplate, parseReading, templateFilter, type RejectReason } from './parse.ts';

const template = compileTemplate('sensors/{device_id}/{sensor_type}');
const limits = { maxPayloadBytes: 256, maxFutureMs: 60_000 };
const now = Date.UTC(2026, 10, 27, 12, 0, 0);
const parse = (payload: string | Buffer, topic = 'sensors/device-001/temperature') =>
  parseReading(template, topic, typeof payload === 'string' ? Buffer.from(payload) : payload, now, limits);

describe('good readings', () => {
  test('a bare number gets the default unit and the receive time, marked as the connector\'s', () => {
    expect(parse('22.5')).toEqual({ ok: true, reading: { device_id: 'device-001', sensor_type: 'temperature', value: 22.5, unit: '°C', time: now, ingest_time: now, time_us: 0, time_source: 'connector' } });
    expect(parse(' -3e2\n', 'sensors/d/pressure')).toMatchObject({ ok: true, reading: { value: -300, unit: 'hPa' } });
  });

  test('JSON with value, ISO or epoch time and unit', () => {
    expect(parse('{"value": 55, "time": "2026-11-27T11:59:00Z", "unit": "%RH"}', 'sensors/d/humidity'))
      .toMatchObject({ ok: true, reading: { value: 55, unit: '%RH', time: now - 60_000, ingest_time: now } });
    expect(parse(`{"value": 410, "time": ${now - 5}}`, 'sensors/d/co2')).toMatchObject({ ok: true, reading: { value: 410, unit: 'ppm', time: now - 5 } });
    expect(parse('{"value": 1}', 'sensors/d/vibration')).toMatchObject({ ok: true, reading: { unit: '' } });
  });

  test('the template decides which levels are the device and the sensor', () => {
    const t = compileTemplate('site/{sensor_type}/x/{device_id}');
    expect(templateFilter(t)).toBe('site/#');
    expect(templateFilter(compileTemplate('sensors/{device_id}/{sensor_type}'))).toBe('sensors/#');
    expect(templateFilter(compileTemplate('{device_id}/{sensor_type}'))).toBe('#');
    expect(parseReading(t, 'site/humidity/x/dev-9', Buffer.from('40'), now, limits)).toMatchObject({ ok: true, reading: { device_id: 'dev-9', sensor_type: 'humidity' } });
  });
});

test('a topic gives the same answer every time it comes, also after more topics than are remembered', () => {
  const t = compileTemplate('sensors/{device_id}/{sensor_type}');
  const read = (topic: string) => parseReading(t, topic, Buffer.from('1'), now, limits);
  const answers = () => [read('sensors/d-1/temperature'), read('sensors/temp'), read('sensors/bad$id/co2')];
  const first = answers();
  expect(first.map((r) => (r.ok ? r.reading.device_id : r.reason))).toEqual(['d-1', 'topic-mismatch', 'bad-device-id']);
  const wrong: number[] = [];
  for (let i = 0; i < 25_000; i++) {
    const r = read(`sensors/dev-${i}/humidity`);
    if (!r.ok || r.reading.device_id !== `dev-${i}` || r.reading.sensor_type !== 'humidity') wrong.push(i);
  }
  expect(wrong).toEqual([]);
  expect(answers()).toEqual(first);
  expect(answers()).toEqual(first);
});

describe('every bad input is refused with its reason', () => {
  const cases: [string, string | Buffer, RejectReason, string?][] = [
    ['non-numeric value', 'warm', 'not-a-number'],
    ['number with trailing junk', '22.5C', 'not-a-number'],
    ['NaN', 'NaN', 'non-finite'],
    ['Infinity', '-Infinity', 'non-finite'],
    ['a number too large for a double', '1e400', 'non-finite'],
    ['empty payload', '', 'empty'],
    ['payload over the size limit', '1'.repeat(257), 'too-large'],
    ['invalid UTF-8', Buffer.from([0x32, 0x32, 0xff, 0xfe]), 'invalid-utf8'],
    ['broken JSON', '{"value": ', 'not-a-number'],
    ['JSON value as a string', '{"value": "22.5"}', 'wrong-type'],
    ['JSON without value', '{"time": "2026-11-27T11:00:00Z"}', 'wrong-type'],
    ['JSON unit as a number', '{"value": 1, "unit": 5}', 'wrong-type'],
    ['JSON time as an object', '{"value": 1, "time": {}}', 'wrong-type'],
    ['JSON time without a timezone', '{"value": 1, "time": "2026-11-27T11:00:00"}', 'wrong-type'],
    ['JSON array', '[1, 2]', 'wrong-type'],
    ['__proto__ key', '{"value": 1, "__proto__": {"polluted": true}}', 'forbidden-key'],
    ['nested constructor key', '{"value": 1, "meta": {"constructor": {"prototype": 1}}}', 'forbidden-key'],
    ['__proto__ key spelled with escapes', '{"value": 1, "\\u005f_proto\\u005f_": {"polluted": true}}', 'forbidden-key'],
    ['topic with too few levels', '22.5', 'topic-mismatch', 'sensors/temp'],
    ['topic with another prefix', '22.5', 'topic-mismatch', 'other/d/temperature'],
    ['device id with unsafe characters', '22.5', 'bad-device-id', 'sensors/dev ice$/temperature'],
    ['device id over 64 characters', '22.5', 'bad-device-id', `sensors/${'d'.repeat(65)}/temperature`],
    ['time too far in the future', `{"value": 1, "time": ${now + 61_000}}`, 'time-in-future'],
    ['absurd future time', '{"value": 1, "time": 1e300}', 'time-in-future'],
    ['time before 2000', '{"value": 1, "time": "1999-12-31T23:59:59Z"}', 'time-too-old'],
    ['epoch seconds instead of ms', '{"value": 1, "time": 1790000000}', 'time-too-old'],
  ];
  test.each(cases.map(([name, payload, reason, topic]) => ({ name, payload, reason, topic })))('$name', ({ payload, reason, topic }) => {
    const r = parse(payload, topic);
    expect(r).toMatchObject({ ok: false, reason });
    expect(r.ok || r.message.length > 0).toBe(true);
  });

  test('a __proto__ key does not pollute Object.prototype', () => {
    parse('{"value": 1, "__proto__": {"polluted": true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

test('a template without both fields is refused at start', () => {
  expect(() => compileTemplate('sensors/{device_id}')).toThrow(/\{sensor_type\}/);
  expect(() => compileTemplate('sensors/+/{device_id}/{sensor_type}')).toThrow(/literal levels/);
});
