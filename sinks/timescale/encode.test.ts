import { COPY_HEADER, CopyRows, dedupe, keyOf, RowError } from './encode.ts';
import { sensorData, validateTable, type TableSpec } from './table.ts';

const reading = { time: Date.UTC(2026, 10, 27, 10, 0, 0, 123), device_id: 'dev-1', sensor_type: 'temperature', value: 21.5, unit: '°C' };
const encode = (table: TableSpec, value: unknown) => {
  const rows = new CopyRows();
  rows.add(table, value);
  return Buffer.from(rows.slice(0, 1));
};
const int32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const field = (bytes: Buffer) => Buffer.concat([int32(bytes.length), bytes]);

test('COPY binary starts with the signature, zero flags and no header extension', () => {
  expect(COPY_HEADER).toEqual(Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(0)]));
});

test('a reading becomes one tuple: 6 fields, time in µs since 2000-01-01 UTC, double as IEEE 754, text as UTF-8, null unit and time source as length -1', () => {
  const us = Buffer.alloc(8);
  us.writeBigInt64BE(BigInt(reading.time - Date.UTC(2000, 0, 1)) * 1000n);
  const value = Buffer.alloc(8);
  value.writeDoubleBE(21.5);
  const fields = [field(us), field(Buffer.from('dev-1')), field(Buffer.from('temperature')), field(value)];
  expect(encode(sensorData, reading)).toEqual(Buffer.concat([Buffer.from([0, 6]), ...fields, field(Buffer.from('°C', 'utf8')), int32(-1)]));
  expect(encode(sensorData, { ...reading, unit: null, time: '2026-11-27T11:00:00.123+01:00' })).toEqual(Buffer.concat([Buffer.from([0, 6]), ...fields, int32(-1), int32(-1)]));
});

test('the microseconds within the millisecond (time_us) are added to the time; the time source is text', () => {
  const us = Buffer.alloc(8);
  us.writeBigInt64BE(BigInt(reading.time - Date.UTC(2000, 0, 1)) * 1000n + 457n);
  const row = encode(sensorData, { ...reading, time_us: 457, time_source: 'connector' });
  expect(row.subarray(2, 14)).toEqual(field(us));
  expect(row.subarray(-13)).toEqual(field(Buffer.from('connector')));
  expect(() => encode(sensorData, { ...reading, time_us: 1000 })).toThrow('column time: time_us must be an integer from 0 to 999 (microseconds), got 1000');
});

test('values that cannot fit their column are refused with the column named', () => {
  const wide = validateTable({ name: 't', columns: [{ name: 'n', type: 'integer' }, { name: 'b', type: 'bigint' }, { name: 'j', type: 'jsonb' }] });
  expect(() => encode(sensorData, { ...reading, value: '21.5' })).toThrow(new RowError('column value must be a number, got string'));
  expect(() => encode(sensorData, { ...reading, device_id: undefined })).toThrow('column device_id must not be null');
  expect(() => encode(sensorData, { ...reading, time: 'yesterday' })).toThrow('column time must be a time');
  expect(() => encode(sensorData, null)).toThrow('a row of sensor_data must be an object, got null');
  expect(() => encode(wide, { n: 2 ** 31, b: 1, j: 1 })).toThrow('column n must be an integer within 32 bits, got 2147483648');
  expect(() => encode(wide, { n: 1, b: 2n ** 63n, j: 1 })).toThrow('column b must be an integer within 64 bits, got 9223372036854775808');
  expect(() => encode(wide, { n: 1, b: 1.5, j: 1 })).toThrow('column b must be an integer within 64 bits, got 1.5');
  expect(() => encode(wide, { n: 1, b: 1, j: () => 1 })).toThrow('column j must be a JSON value, got function');
});

test('a batch keeps one row per conflict key, the last one', () => {
  const rows = [reading, { ...reading, value: 1 }, { ...reading, sensor_type: 'humidity' }].map((v, i) => ({ key: keyOf(sensorData, encode(sensorData, v)), item: i }));
  expect(dedupe(sensorData, rows).map((r) => r.item).sort()).toEqual([1, 2]);
  expect(dedupe({ ...sensorData, conflict: undefined }, rows)).toHaveLength(3);
  expect(keyOf(sensorData, encode(sensorData, { ...reading, unit: 'x' }))).toBe(keyOf(sensorData, encode(sensorData, reading)));
});

test('rows go into one buffer, in order, past its first size; a refused row leaves nothing behind; any run of rows is a slice', () => {
  const rows = new CopyRows();
  const each: Buffer[] = [];
  for (let i = 0; i < 5000; i++) {
    const r = { ...reading, device_id: i % 7 ? `dev-${i}` : `dév\t${i}`.repeat(i % 3 ? 1 : 30), value: i / 3 };
    rows.add(sensorData, r);
    each.push(encode(sensorData, r));
    if (i === 10) expect(() => rows.add(sensorData, { ...reading, value: 'x' })).toThrow(RowError);
  }
  expect(rows.length).toBe(5000);
  expect(rows.slice(0, 5000)).toEqual(Buffer.concat(each));
  expect(rows.slice(10, 13)).toEqual(Buffer.concat(each.slice(10, 13)));
  expect(rows.slice(0, 0).length).toBe(0);
});

test('table and column names outside [a-z_][a-z0-9_]* are refused before any SQL is built', () => {
  expect(() => validateTable({ name: 'sensor_data"; drop table x; --', columns: sensorData.columns })).toThrow('table name must match');
  expect(() => validateTable({ name: 't', columns: [{ name: 'Time', type: 'timestamptz' }] })).toThrow('column name must match');
  expect(() => validateTable({ name: 't', columns: [{ name: 'a', type: 'text' }], conflict: { key: ['b'], action: 'nothing' } })).toThrow('conflict key column b is not one of its columns');
});
