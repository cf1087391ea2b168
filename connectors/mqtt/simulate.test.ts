import { ConfigError } from '../../core/errors.ts';
import { compileTemplate, parseReading } from './parse.ts';
import { BAD_KINDS, EPISODE_READINGS, EpisodePlanner, HUGE_PAYLOAD_BYTES, episodeDevices, jsonPair, messagePlan, readingFor, simulateOptionsFrom, uniqueValue, type SimulateOptions } from './simulate.ts';

test('normal readings stay in their sensor range; anomalies are temperatures above the alert threshold', () => {
  const lows = readingFor('temperature', false, 35, () => 0);
  const highs = readingFor('temperature', false, 35, () => 0.999);
  expect([lows, highs]).toEqual([18, 28]);
  expect(readingFor('co2', false, 35, () => 0.5)).toBe(800);
  for (const r of [0, 0.5, 0.999]) expect(readingFor('temperature', true, 35, () => r)).toBeGreaterThan(35);
  // A threshold inside the normal range: normal readings still never cross it.
  expect(readingFor('temperature', false, 20, () => 0.999)).toBeLessThanOrEqual(18);
});

test('mixed: each (device, sensor) pair keeps one format, and both formats occur for every sensor type', () => {
  const sensors = ['temperature', 'humidity', 'pressure', 'co2'];
  const formats = (device: number) => sensors.map((_, s) => (jsonPair('mixed', device, s) ? 'json' : 'bare'));
  expect(formats(0)).toEqual(['json', 'bare', 'json', 'bare']);
  expect(formats(1)).toEqual(['bare', 'json', 'bare', 'json']);
  expect(jsonPair('json', 1, 0)).toBe(true);
  expect(jsonPair('bare', 0, 0)).toBe(false);
  expect(episodeDevices({ devices: 5, sensors, format: 'mixed' })).toEqual([0, 2, 4]);
  expect(episodeDevices({ devices: 3, sensors, format: 'json' })).toEqual([0, 1, 2]);
  expect(episodeDevices({ devices: 3, sensors, format: 'bare' })).toEqual([]);
  expect(episodeDevices({ devices: 1, sensors: ['humidity', 'temperature'], format: 'mixed' })).toEqual([]);
});

test('with a log every value is unique, within 0.1 of its reading, and its text parses back to it exactly', () => {
  const seen = new Set<number>();
  for (const seq of [1, 2, 9, 10, 123, 999_999, 1_000_000, 1_000_001, 5_555_555, 9_999_999]) {
    for (const reading of [-40.3, 0, 18, 22.5, 28, 35.1, 999.9, 1030, 1200]) {
      const v = uniqueValue(reading, seq);
      expect(parseFloat(String(v))).toBe(v);
      expect(v - reading).toBeGreaterThan(0);
      expect(v - reading).toBeLessThan(0.1);
      seen.add(v);
    }
  }
  expect(seen.size).toBe(10 * 9);
  expect(String(uniqueValue(22.5, 123))).toBe('22.50000123');
  // Two readings 0.1 apart never meet, whatever their message numbers.
  expect(uniqueValue(22.5, 9_999_999)).toBeLessThan(uniqueValue(22.6, 1));
});

/** Temperature readings of `devices` JSON devices every `stepMs`, one device after another: [index, device, time, episode]. */
function runPlanner(o: { devices: number; episodes: number; gapMs: number; readings: number; stepMs: number }) {
  const planner = new EpisodePlanner({ count: o.readings, episodes: o.episodes, gapMs: o.gapMs, devices: Array.from({ length: o.devices }, (_, d) => d) });
  const out: { device: number; time: number; episode: number | undefined }[] = [];
  for (let i = 0; i < o.readings; i++) out.push({ device: i % o.devices, time: i * o.stepMs, episode: planner.reading(i, i % o.devices, i * o.stepMs) });
  return { out, completed: planner.completed };
}

test('episodes: three anomalies in a row of one device, devices in turn, one device\'s episodes a gap apart with a normal reading between', () => {
  const { out, completed } = runPlanner({ devices: 3, episodes: 12, gapMs: 30_000, readings: 6000, stepMs: 100 });
  expect(completed).toBe(12);
  const byEpisode = new Map<number, typeof out>();
  for (const r of out) if (r.episode !== undefined) byEpisode.set(r.episode, [...(byEpisode.get(r.episode) ?? []), r]);
  expect([...byEpisode.keys()]).toEqual(Array.from({ length: 12 }, (_, k) => k + 1));
  const lastOf = new Map<number, number>();
  for (const [episode, readings] of byEpisode) {
    expect(readings).toHaveLength(EPISODE_READINGS);
    const device = readings[0]!.device;
    expect(device).toBe((episode - 1) % 3);
    // In a row: the device's readings between them are none (it reads every 3rd step).
    const ofDevice = out.filter((r) => r.device === device);
    const at = ofDevice.indexOf(readings[0]!);
    expect(ofDevice.slice(at, at + EPISODE_READINGS)).toEqual(readings);
    expect(ofDevice[at + EPISODE_READINGS]?.episode).toBeUndefined();
    const previous = lastOf.get(device);
    if (previous !== undefined) expect(readings[0]!.time - previous).toBeGreaterThanOrEqual(30_000);
    lastOf.set(device, readings.at(-1)!.time);
  }
  // Spread over the run: the first in its first tenth, the last in its last tenth.
  expect(byEpisode.get(1)![0]!.time).toBeLessThan(60_000);
  expect(byEpisode.get(12)![0]!.time).toBeGreaterThan(540_000);
});

test('an episode that comes too soon for its device waits for the gap instead of joining the last one', () => {
  const { out, completed } = runPlanner({ devices: 1, episodes: 2, gapMs: 30_000, readings: 100, stepMs: 1000 });
  expect(completed).toBe(2);
  const times = (e: number) => out.filter((r) => r.episode === e).map((r) => r.time);
  expect(times(1)).toEqual([25_000, 26_000, 27_000]);
  // Due at 75 s, after the gap anyway; with a longer gap it would have waited.
  expect(times(2)[0]).toBe(75_000);
  const tight = runPlanner({ devices: 1, episodes: 2, gapMs: 60_000, readings: 100, stepMs: 1000 });
  expect(tight.out.filter((r) => r.episode === 2).map((r) => r.time)).toEqual([87_000, 88_000, 89_000]);
});

describe('bad messages', () => {
  const template = compileTemplate('sensors/{device_id}/{sensor_type}');
  const limits = { maxPayloadBytes: 4096, maxFutureMs: 300_000 };
  const now = Date.UTC(2026, 5, 1, 12);
  const make = (kind: (typeof BAD_KINDS)[number], seq: number) => kind.make({ topic: 'sensors/device-001/temperature', seq, value: uniqueValue(22.5, seq), now, limits });

  test.each(BAD_KINDS.map((k) => [k.name, k] as const))('%s gets the reason ingest gives it', (_, kind) => {
    const m = make(kind, 42);
    const r = parseReading(template, m.topic ?? 'sensors/device-001/temperature', Buffer.from(m.payload), now + 50, limits);
    expect(r).toMatchObject({ ok: false, reason: kind.reason });
  });

  test('each payload holds its seq, so no two are alike; the huge one is over 1 MiB, the other too large one just over the limit', () => {
    const payloads = BAD_KINDS.flatMap((k) => [make(k, 7).payload, make(k, 8).payload]);
    expect(new Set(payloads).size).toBe(payloads.length);
    expect(Buffer.byteLength(make(BAD_KINDS.find((k) => k.name === 'huge')!, 7).payload)).toBe(HUGE_PAYLOAD_BYTES);
    expect(HUGE_PAYLOAD_BYTES).toBeGreaterThan(1 << 20);
    expect(Buffer.byteLength(make(BAD_KINDS.find((k) => k.name === 'over-limit')!, 7).payload)).toBe(4097);
    expect(new Set(BAD_KINDS.map((k) => k.reason))).toEqual(new Set(['not-a-number', 'wrong-type', 'topic-mismatch', 'too-large', 'time-in-future', 'time-too-old']));
  });
});

test('a mixed run with a log, as ingest reads it: each reading gives its logged value and time, each bad message its reason', () => {
  const o: SimulateOptions = {
    broker: 'mqtt://unused', devices: 4, sensors: ['temperature', 'humidity', 'pressure', 'co2'], rate: 200, count: 4000, qos: 1,
    format: 'mixed', anomalies: 0.2, threshold: 35, prefix: 'sensors', episodes: 2, episodeGapMs: 1000, bad: 16, log: '/unused',
  };
  const template = compileTemplate('sensors/{device_id}/{sensor_type}');
  const limits = { maxPayloadBytes: 4096, maxFutureMs: 300_000 };
  const plan = messagePlan(o);
  const t0 = Date.UTC(2026, 5, 1, 12);
  const values = new Set<string>();
  const formats = new Map<string, boolean>();
  const reasons: string[] = [];
  const wrong: string[] = [];
  let anomalies = 0;
  for (let i = 0; i < o.count; i++) {
    const now = t0 + i * 5;
    const { payload, line, anomaly } = plan.next(i, now);
    expect(line.seq).toBe(i + 1);
    if (anomaly) anomalies++;
    const r = parseReading(template, line.topic, Buffer.from(payload), now + 20, limits);
    if (line.kind === 'bad') {
      reasons.push(line.reason);
      if (r.ok || r.reason !== line.reason) wrong.push(`${line.seq}: ${r.ok ? 'ok' : r.reason}`);
      continue;
    }
    const json = line.time !== null;
    if (!r.ok || r.reading.value !== line.value || r.reading.time !== (line.time ?? now + 20) || r.reading.time_source !== (json ? 'device' : 'connector')) wrong.push(`${line.seq}: ${JSON.stringify(r)}`);
    values.add(`${line.device} ${line.sensor} ${line.value}`);
    const pair = `${line.device} ${line.sensor}`;
    if ((formats.get(pair) ?? json) !== json) wrong.push(`${pair} changed format at ${line.seq}`);
    formats.set(pair, json);
    if (anomaly !== (line.sensor === 'temperature' && line.value > 35) || (anomaly && (!json || line.sensor !== 'temperature'))) wrong.push(`${line.seq}: anomaly ${anomaly}, ${line.value}, json ${json}`);
  }
  expect(wrong).toEqual([]);
  expect(values.size).toBe(o.count - 16);
  expect([...formats.values()].filter(Boolean)).toHaveLength(8);
  expect(reasons).toHaveLength(16);
  expect(plan.episodes.completed).toBe(2);
  expect(anomalies).toBeGreaterThan(2 * EPISODE_READINGS);
});

describe('options', () => {
  const from = (v: Record<string, string>) => simulateOptionsFrom(v, {});
  test('the new options and their defaults', () => {
    expect(from({})).toMatchObject({ format: 'bare', episodes: 0, episodeGapMs: 30_000, bad: 0, log: undefined, limits: { maxPayloadBytes: 4096, maxFutureMs: 300_000 } });
    expect(from({ format: 'mixed', episodes: '2', 'episode-gap-ms': '5000', bad: '8', log: '/tmp/x.jsonl', duration: '60' }))
      .toMatchObject({ format: 'mixed', episodes: 2, episodeGapMs: 5000, bad: 8, log: '/tmp/x.jsonl', count: 6000 });
    expect(simulateOptionsFrom({}, { INGEST_MAX_PAYLOAD_BYTES: '100' }).limits?.maxPayloadBytes).toBe(100);
  });

  test('a plan that cannot work is refused, saying why', () => {
    expect(() => from({ episodes: '1' })).toThrow(new ConfigError('--episodes needs temperature readings in JSON: --sensors with temperature and --format json or mixed (mixed with one device: temperature at an even place in --sensors), got --format bare --sensors temperature,humidity,pressure,co2'));
    // 10 s with 5 JSON temperature devices: 10 episodes start one device's 5 s apart, less two readings of it (0.4 s each).
    expect(() => from({ format: 'mixed', episodes: '10' })).toThrow(/--episodes 10 leaves about 4200 ms between two episodes of one device .*less than --episode-gap-ms 30000/);
    expect(() => from({ format: 'mixed', episodes: '10', 'episode-gap-ms': '1000' })).not.toThrow();
    expect(() => from({ count: '20000000', log: '/tmp/x' })).toThrow('--count must be at most 9999999 with --log');
    expect(() => from({ count: '5', bad: '6' })).toThrow('--bad must be at most --count (5), got 6');
    expect(() => from({ format: 'xml' })).toThrow('--format must be bare or json or mixed, got "xml"');
  });
});

test('a burst (one clock reading for many messages) still gives every reading of a sensor its own device time', () => {
  const o: SimulateOptions = {
    broker: 'mqtt://unused', devices: 2, sensors: ['temperature', 'humidity'], rate: 1000, count: 400, qos: 1, format: 'json',
    anomalies: 0, threshold: 35, prefix: 'sensors',
  };
  const plan = messagePlan(o);
  const times = new Map<string, number[]>();
  for (let i = 0; i < o.count; i++) {
    const line = plan.next(i, Date.UTC(2026, 5, 1, 12)).line;
    const series = `${line.device}/${line.sensor}`;
    times.set(series, [...(times.get(series) ?? []), line.time!]);
  }
  expect(times.size).toBe(4);
  for (const ts of times.values()) expect(new Set(ts).size).toBe(ts.length);
});
