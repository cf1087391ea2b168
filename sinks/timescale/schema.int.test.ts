import { ensureSchema } from './schema.ts';
import { createTestDb, withClient, type TestDb } from './testdata/db.ts';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(() => db.drop());

test('plain PostgreSQL: the schema is idempotent and has sensor_data, its unique index, offsets and sensor_hourly', async () => {
  await withClient(db.url, async (c) => {
    expect(await ensureSchema(c)).toEqual([]); // present: nothing to do
    expect((await ensureSchema(c, true)).length).toBeGreaterThan(0); // forced: runs again without error
    const idx = await c.query("SELECT indexdef FROM pg_indexes WHERE tablename = 'sensor_data'");
    expect(idx.rows.map((r) => r.indexdef)).toEqual(['CREATE UNIQUE INDEX sensor_data_device_sensor_time ON public.sensor_data USING btree (device_id, sensor_type, "time" DESC)']);
  });
});

test('time_bucket behaves like TimescaleDB: UTC buckets from Monday 2000-01-03, months from 2000-01-01', async () => {
  const cases: [string, string, string][] = [
    ['5 minutes', '2026-11-27 10:07:31.5+00', '2026-11-27 10:05:00+00'],
    ['1 hour', '2026-11-27 10:59:59+01', '2026-11-27 09:00:00+00'],
    ['1 hour', '1969-12-31 23:30:00+00', '1969-12-31 23:00:00+00'],
    ['1 day', '2026-11-27 23:59:59+00', '2026-11-27 00:00:00+00'],
    ['7 days', '2026-11-29 12:00:00+00', '2026-11-23 00:00:00+00'], // Sunday → the Monday before
    ['1 month', '2026-11-27 10:00:00+00', '2026-11-01 00:00:00+00'],
    ['3 months', '1999-11-27 10:00:00+00', '1999-10-01 00:00:00+00'],
  ];
  await withClient(db.url, async (c) => {
    await c.query("SET TIME ZONE 'UTC'");
    for (const [width, ts, want] of cases) {
      const r = await c.query('SELECT time_bucket($1::interval, $2::timestamptz) = $3::timestamptz AS ok, time_bucket($1::interval, $2::timestamptz)::text AS got', [width, ts, want]);
      expect({ width, ts, got: r.rows[0].got, ok: r.rows[0].ok }).toEqual({ width, ts, got: r.rows[0].got, ok: true });
    }
    await expect(c.query("SELECT time_bucket('1 month 1 day', now())")).rejects.toThrow('month intervals cannot have day or time component');
  });
});

test('the README queries work for the read-only role, which cannot write', async () => {
  await withClient(db.url, (c) => c.query(
    `INSERT INTO sensor_data (time, device_id, sensor_type, value, unit)
     SELECT timestamptz '2026-11-27 10:00:00+00' + i * interval '1 minute', 'dev-' || (i % 2), 'temperature', 20 + i, '°C' FROM generate_series(0, 9) i`));
  await withClient(db.readerUrl, async (c) => {
    const latest = await c.query(
      `SELECT DISTINCT ON (device_id, sensor_type) device_id, sensor_type, value, unit, time
       FROM sensor_data ORDER BY device_id, sensor_type, time DESC`);
    expect(latest.rows.map((r) => [r.device_id, r.value])).toEqual([['dev-0', 28], ['dev-1', 29]]);
    const avg = await c.query(
      `SELECT time_bucket('5 minutes', time) AS bucket, device_id, avg(value) AS avg_value
       FROM sensor_data WHERE time > $1::timestamptz - interval '1 hour' GROUP BY bucket, device_id ORDER BY bucket, device_id`, ['2026-11-27 11:00:00+00']);
    expect(avg.rows.map((r) => [r.bucket.toISOString(), r.device_id, r.avg_value])).toEqual([
      ['2026-11-27T10:00:00.000Z', 'dev-0', 23], ['2026-11-27T10:00:00.000Z', 'dev-1', 22], // 10:00 itself is not after 11:00 - 1 hour
      ['2026-11-27T10:05:00.000Z', 'dev-0', 27], ['2026-11-27T10:05:00.000Z', 'dev-1', 27],
    ]);
    const hourly = await c.query('SELECT readings::int, avg_value FROM sensor_hourly ORDER BY device_id');
    expect(hourly.rows).toEqual([{ readings: 5, avg_value: 24 }, { readings: 5, avg_value: 25 }]);
    await expect(c.query("INSERT INTO sensor_data VALUES (now(), 'x', 'y', 1, null)")).rejects.toThrow('permission denied');
    await expect(c.query('DELETE FROM sensor_data')).rejects.toThrow('permission denied');
  });
});
