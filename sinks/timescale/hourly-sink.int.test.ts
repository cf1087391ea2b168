import { recomputeHour } from './hourly-sink.ts';
import { createTestDb, withClient, type TestDb } from './testdata/db.ts';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(() => db.drop());

const hour = Date.UTC(2026, 11, 1, 10);

test("a late repair never replaces an hour's row with a partial one: it waits until sensor_data holds at least what the row counts", async () => {
  await withClient(db.url, async (c) => {
    // The streamed statistics of the hour: 10 readings of 20.
    await c.query(`INSERT INTO sensor_stats_hourly (bucket, device_id, sensor_type, avg_value, min_value, max_value, count, sum)
      VALUES ($1, 'd1', 'temperature', 20, 20, 20, 10, 200)`, [new Date(hour)]);
    const insert = (k: number, value: number) => c.query(`INSERT INTO sensor_data (time, device_id, sensor_type, value) VALUES ($1, 'd1', 'temperature', $2)`, [new Date(hour + k * 1000), value]);
    const row = async () => (await c.query('SELECT count::int AS count, sum FROM sensor_stats_hourly WHERE device_id = $1', ['d1'])).rows[0];

    // timescale-sink has loaded 3 of them so far, and the late one (30) arrives.
    for (let k = 0; k < 3; k++) await insert(k, 20);
    await insert(99, 30);
    await recomputeHour(c, 'd1', 'temperature', hour, true);
    expect(await row()).toEqual({ count: 10, sum: 200 });

    // Once the hour is loaded, the repair takes it: 10 readings plus the late one.
    for (let k = 3; k < 10; k++) await insert(k, 20);
    await recomputeHour(c, 'd1', 'temperature', hour, true);
    expect(await row()).toEqual({ count: 11, sum: 230 });

    // A replay recomputes from sensor_data whatever the row says (it loads the raw readings first).
    await c.query('DELETE FROM sensor_data WHERE time = $1', [new Date(hour + 99_000)]);
    await recomputeHour(c, 'd1', 'temperature', hour);
    expect(await row()).toEqual({ count: 10, sum: 200 });
  });
});
