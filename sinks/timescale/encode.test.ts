import { CopyRows, dedupe, encodeRow, escapeText, isoTime, RowError } from './encode.ts';
import { sensorData, validateTable } from './table.ts';

const reading = { time: Date.UTC(2026, 10, 27, 10, 0, 0, 123), device_id: 'dev-1', sensor_type: 'temperature', value: 21.5, unit: '°C' };

test('a reading becomes one COPY text line, time in UTC ISO, unit null as \\N', () => {
  expect(encodeRow(sensorData, reading).row).toBe('2026-11-27T10:00:00.123Z\tdev-1\ttemperature\t21.5\t°C\n');
  expect(encodeRow(sensorData, { ...reading, unit: null, time: '2026-11-27T11:00:00+01:00' }).row).toBe('2026-11-27T10:00:00.000Z\tdev-1\ttemperature\t21.5\t\\N\n');
});

test('tabs, newlines, carriage returns and backslashes in text are escaped so that a row stays one row', () => {
  expect(escapeText('a\tb\nc\rd\\e\\N')).toBe('a\\tb\\nc\\rd\\\\e\\\\N');
  const line = encodeRow(sensorData, { ...reading, device_id: 'x\ty\nz\\' }).row;
  expect(line.split('\n')).toHaveLength(2);
  expect(line.split('\t')).toHaveLength(5);
});

test('values that cannot fit their column are refused with the column named', () => {
  expect(() => encodeRow(sensorData, { ...reading, value: '21.5' })).toThrow(new RowError('column value must be a number, got string'));
  expect(() => encodeRow(sensorData, { ...reading, device_id: undefined })).toThrow('column device_id must not be null');
  expect(() => encodeRow(sensorData, { ...reading, time: 'yesterday' })).toThrow('column time must be a time');
  expect(() => encodeRow(sensorData, null)).toThrow('a row of sensor_data must be an object, got null');
});

test('a batch keeps one row per conflict key, the last one', () => {
  const rows = [reading, { ...reading, value: 1 }, { ...reading, sensor_type: 'humidity' }].map((v, i) => ({ ...encodeRow(sensorData, v), item: i }));
  expect(dedupe(sensorData, rows).map((r) => r.item).sort()).toEqual([1, 2]);
  expect(dedupe({ ...sensorData, conflict: undefined }, rows)).toHaveLength(3);
});

test('rows go into one buffer, in order, past its first size; a refused row leaves nothing behind; any run of rows is a slice', () => {
  const text = new CopyRows();
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const r = { ...reading, device_id: i % 7 ? `dev-${i}` : `dév\t${i}`, value: i / 3 };
    text.add(sensorData, r);
    lines.push(encodeRow(sensorData, r).row);
    if (i === 10) expect(() => text.add(sensorData, { ...reading, value: 'x' })).toThrow(RowError);
  }
  expect(text.length).toBe(5000);
  expect(text.slice(0, 5000).toString('utf8')).toBe(lines.join(''));
  expect(text.slice(10, 13).toString('utf8')).toBe(lines.slice(10, 13).join(''));
  expect(text.slice(0, 0).length).toBe(0);
});

test('table and column names outside [a-z_][a-z0-9_]* are refused before any SQL is built', () => {
  expect(() => validateTable({ name: 'sensor_data"; drop table x; --', columns: sensorData.columns })).toThrow('table name must match');
  expect(() => validateTable({ name: 't', columns: [{ name: 'Time', type: 'timestamptz' }] })).toThrow('column name must match');
  expect(() => validateTable({ name: 't', columns: [{ name: 'a', type: 'text' }], conflict: { key: ['b'], action: 'nothing' } })).toThrow('conflict key column b is not one of its columns');
});

test('times are written exactly as toISOString would, from 1970 to 9999 and outside it', () => {
  const samples = [0, 1, 999, 86_399_999, Date.UTC(2000, 1, 29, 12), Date.UTC(2026, 10, 27, 23, 59, 59, 999), 253_402_300_799_999, 253_402_300_800_000, -1, -8.64e15, 1.7];
  for (let i = 0; i < 2000; i++) samples.push(Math.floor(Math.random() * 253_402_300_800_000));
  for (const ms of samples) expect([ms, isoTime(ms)]).toEqual([ms, new Date(Math.trunc(ms)).toISOString()]);
});
