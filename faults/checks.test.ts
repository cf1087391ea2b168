import { createHash } from 'node:crypto';
import {
  checkAlerts, checkArchive, checkDeadLetters, checkHourly, checkReadings, formatTable, markdownTable,
  type DeadLetter, type HourStats, type RunLog, type StoredAlert, type StoredReading,
} from './checks.ts';
import type { SentLine } from '../connectors/mqtt/simlog.ts';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const HOUR = 3_600_000;

/** A simulator log as readSimLog returns it, from its lines in order. */
function logOf(...lines: Record<string, unknown>[]): RunLog {
  const log = { sent: new Map<number, SentLine>(), acked: new Set<number>() };
  for (const l of lines) {
    if (l.e === 'acked') log.acked.add(l.seq as number);
    else log.sent.set(l.seq as number, l as unknown as SentLine);
  }
  return log;
}
const reading = (seq: number, value: number, more: object = {}) => ({ e: 'sent', seq, topic: `run1/device-001/temperature`, payload: String(value), kind: 'reading', device: 'device-001', sensor: 'temperature', value, time: null, ...more });
const acked = (seq: number) => ({ e: 'acked', seq });
const row = (value: number, more: Partial<StoredReading> = {}): StoredReading => ({ device_id: 'device-001', sensor_type: 'temperature', value, time_us: '0', time_source: 'connector', ...more });

describe('checkReadings', () => {
  const log = logOf(
    reading(1, 20.1), acked(1),
    reading(2, 20.2, { payload: `{"value":20.2,"time":${T0}}`, time: T0 }), acked(2),
    reading(3, 20.3), // sent, never acked
  );
  const complete = [row(20.1), row(20.2, { time_source: 'device', time_us: `${T0}000` })];

  it('passes when every acked reading is stored once with its time', () => {
    const r = checkReadings(log, complete);
    expect(r).toMatchObject({ ok: true, expected: expect.stringContaining('2 acked readings') });
    expect(r.found).toContain('lost 0, twice 0, unknown 0, time wrong 0, sent not acked: 0 of 1 stored');
  });

  it('reports a lost acked reading by its seq', () => {
    const r = checkReadings(log, [complete[1]!]);
    expect(r.ok).toBe(false);
    expect(r.found).toContain('lost 1 (seq 1)');
  });

  it('reports a reading stored twice, even under two times', () => {
    const r = checkReadings(log, [...complete, row(20.1, { time_us: '5' })]);
    expect(r.ok).toBe(false);
    expect(r.found).toContain('twice 1');
  });

  it('reports a row the simulator did not send', () => {
    const r = checkReadings(log, [...complete, row(99.9)]);
    expect(r.ok).toBe(false);
    expect(r.found).toContain('unknown 1');
  });

  it('reports a JSON reading whose time moved by 1 µs, and a bare one not timed by the connector', () => {
    expect(checkReadings(log, [complete[0]!, row(20.2, { time_source: 'device', time_us: `${T0}001` })]).found).toContain('time wrong 1 (seq 2)');
    expect(checkReadings(log, [row(20.1, { time_source: 'device' }), complete[1]!]).found).toContain('time wrong 1 (seq 1)');
  });

  it('counts a stored unacked reading without failing', () => {
    const r = checkReadings(log, [...complete, row(20.3)]);
    expect(r.ok).toBe(true);
    expect(r.found).toContain('sent not acked: 1 of 1 stored');
  });
});

describe('checkArchive', () => {
  it('fails on an hour that differs and on rows archived twice', () => {
    const table = new Map([['2026-11-27T10', 60], ['2026-11-27T11', 60]]);
    expect(checkArchive({ byHour: new Map(table), duplicates: 0, files: 2 }, table, 'x').ok).toBe(true);
    const short = checkArchive({ byHour: new Map([['2026-11-27T10', 59], ['2026-11-27T11', 60]]), duplicates: 0, files: 2 }, table, 'x');
    expect(short).toMatchObject({ ok: false, found: expect.stringContaining('1 differing (2026-11-27T10:00 archive 59 vs sensor_data 60)') });
    expect(checkArchive({ byHour: new Map(table), duplicates: 3, files: 2 }, table, 'x')).toMatchObject({ ok: false, found: expect.stringContaining('3 archived twice') });
  });
});

describe('checkHourly', () => {
  const stats = (hour: number, more: Partial<HourStats> = {}): HourStats => ({
    hour, device_id: 'device-001', sensor_type: 'temperature', count: 3, sum: 0.1 + 0.2 + 0.3, min_value: 0.1, max_value: 0.3, avg_value: (0.1 + 0.2 + 0.3) / 3, ...more,
  });
  const to = new Date(T0 + 2 * HOUR);

  it('accepts sums that differ in the last bits only', () => {
    expect(checkHourly([stats(T0, { sum: 0.3 + 0.2 + 0.1 })], [stats(T0)], to).ok).toBe(true);
  });

  it('reports a row whose count differs from sensor_data', () => {
    const r = checkHourly([stats(T0, { count: 2 })], [stats(T0)], to);
    expect(r).toMatchObject({ ok: false, found: expect.stringContaining('differing 1 (device-001/temperature 2026-11-27T10:00: count 2 vs 3)') });
  });

  it('reports a closed hour without a row, not the hour still open at `to`', () => {
    const r = checkHourly([], [stats(T0), stats(T0 + 2 * HOUR)], to);
    expect(r).toMatchObject({ ok: false, found: expect.stringContaining('missing 1 (device-001/temperature 2026-11-27T10:00)') });
    expect(checkHourly([], [stats(T0 + 2 * HOUR)], to).ok).toBe(true);
  });

  it('reports a row of an hour without readings', () => {
    expect(checkHourly([stats(T0)], [], to)).toMatchObject({ ok: false, found: expect.stringContaining('extra 1') });
  });
});

describe('checkAlerts', () => {
  const log = logOf(
    reading(1, 40.1, { episode: 1 }), acked(1), reading(2, 41.2, { episode: 1 }), acked(2),
    reading(3, 22.0), acked(3),
    reading(4, 39.9, { episode: 2 }), acked(4),
    reading(5, 44.4, { episode: 3 }), // never stored: no alert expected
  );
  const stored = [row(40.1), row(41.2), row(22.0), row(39.9)];
  const alert = (value: number | null, id = `a${value}`): StoredAlert => ({ id, device_id: 'device-001', sensor_type: 'temperature', value });

  it('expects one alert per stored episode, whichever of its readings opened it', () => {
    const r = checkAlerts(log, stored, [alert(41.2), alert(39.9)]);
    expect(r).toMatchObject({ ok: true, expected: '2 temperature-high alerts, one per stored anomaly episode' });
  });

  it('reports a missed episode and the device', () => {
    const r = checkAlerts(log, stored, [alert(40.1)]);
    expect(r).toMatchObject({ ok: false, found: expect.stringContaining('missed 1') });
    expect(r.found).toContain('devices: device-001 (expected 2, found 1)');
  });

  it('reports an episode alerted twice', () => {
    expect(checkAlerts(log, stored, [alert(40.1), alert(41.2), alert(39.9)]).found).toContain('twice 1');
  });

  it('reports an alert that no stored episode explains', () => {
    const r = checkAlerts(log, stored, [alert(40.1), alert(39.9), alert(22.0, 'x1')]);
    expect(r).toMatchObject({ ok: false, found: expect.stringContaining('unmatched 1 (x1)') });
  });
});

describe('checkDeadLetters', () => {
  const run = { mqttPrefix: 'run1', readingsTopic: 'run1-readings' };
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const big = Buffer.alloc(70 * 1024, 'x');
  const log = logOf(
    { e: 'sent', seq: 1, topic: 'run1/device-001/temperature', payload: 'abc', kind: 'bad', reason: 'not-a-number' }, acked(1),
    { e: 'sent', seq: 2, topic: 'run1/device-001/temperature', bytes: big.length, sha256: sha(big), kind: 'bad', reason: 'too-large' }, acked(2),
    { e: 'sent', seq: 3, topic: 'run1/device-002/temperature', payload: '', kind: 'bad', reason: 'empty' }, // not acked
  );
  const dead = (topic: string, value: Buffer | null, reason: string, more: Record<string, string> = {}): DeadLetter => ({
    offset: '0', value, headers: { 'sluice.topology': 'ingest', 'sluice.source.topic': topic, 'sluice.reason': reason, ...more },
  });
  const abc = dead('run1/device-001/temperature', Buffer.from('abc'), 'not-a-number');
  // Ingest keeps the first 64 KiB of a payload over that, and the whole one's size and digest.
  const cut = dead('run1/device-001/temperature', big.subarray(0, 64 * 1024), 'too-large', { 'sluice.payload.bytes': String(big.length), 'sluice.payload.sha256': sha(big) });

  it('matches each acked bad message by payload, a cut one by size and digest', () => {
    const r = checkDeadLetters(log, [abc, cut], run);
    expect(r).toMatchObject({ ok: true, expected: '2 acked bad messages, each once: not-a-number 1, too-large 1' });
    expect(r.found).toContain('sent not acked: 0 of 1 in the DLQ');
  });

  it('leaves out the dead letters of other runs', () => {
    const other = [dead('run10/device-001/temperature', Buffer.from('x'), 'empty'), { ...dead('other-readings', null, 'late'), headers: { 'sluice.topology': 'hourly-aggregates', 'sluice.source.topic': 'other-readings', 'sluice.reason': 'late' } }];
    expect(checkDeadLetters(log, [abc, cut, ...other], run).ok).toBe(true);
  });

  it('reports a lost acked bad message', () => {
    expect(checkDeadLetters(log, [cut], run)).toMatchObject({ ok: false, found: expect.stringContaining('lost 1 (seq 1)') });
  });

  it('reports a bad message dead-lettered twice', () => {
    expect(checkDeadLetters(log, [abc, abc, cut], run)).toMatchObject({ ok: false, found: expect.stringContaining('twice 1') });
  });

  it('reports a wrong reason', () => {
    const r = checkDeadLetters(log, [{ ...abc, headers: { ...abc.headers, 'sluice.reason': 'wrong-type' } }, cut], run);
    expect(r).toMatchObject({ ok: false, found: expect.stringContaining('wrong reason 1 (seq 1: wrong-type, expected not-a-number)') });
  });

  it('reports downstream dead letters of the run as extra, by reason', () => {
    const late = { offset: '9', value: Buffer.from([0]), headers: { 'sluice.topology': 'hourly-aggregates', 'sluice.source.topic': 'run1-readings', 'sluice.reason': 'late' } };
    const r = checkDeadLetters(log, [abc, cut, late, late], run);
    expect(r).toMatchObject({ ok: false, found: expect.stringContaining('extra 2 (late 2)') });
    expect(r.found).toContain('4 records: late 2, not-a-number 1, too-large 1');
  });

  it('counts an unacked bad message found, and takes an empty payload read back as null', () => {
    const r = checkDeadLetters(log, [abc, cut, dead('run1/device-002/temperature', null, 'empty')], run);
    expect(r).toMatchObject({ ok: true, found: expect.stringContaining('sent not acked: 1 of 1 in the DLQ') });
  });
});

describe('formatTable and markdownTable', () => {
  const rows = [{ check: 'readings', expected: '2', found: 'lost 0', ok: true }, { check: 'dlq', expected: 'a|b', found: 'extra 1', ok: false }];

  it('aligns the columns and prints ok / FAIL', () => {
    expect(formatTable(rows)).toBe([
      'check     expected  found    ok',
      'readings  2         lost 0   ok',
      'dlq       a|b       extra 1  FAIL',
    ].join('\n'));
  });

  it('escapes pipes in Markdown cells', () => {
    expect(markdownTable(rows).split('\n')).toEqual([
      '| check | expected | found | ok |', '| --- | --- | --- | --- |', '| readings | 2 | lost 0 | ok |', '| dlq | a\\|b | extra 1 | FAIL |',
    ]);
  });
});
