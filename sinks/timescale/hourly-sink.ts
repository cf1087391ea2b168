import pg from 'pg';
import { type Sink, type SinkFactory, SluiceError, loadConfig } from '../../core/component.ts';
import { timescaleSchema } from './timescale-settings.ts';

const HOUR = 3_600_000;

/** A closed hour's statistics, as `hourly-aggregates` computed them. Times in ms. */
export interface HourlyRow {
  kind: 'final';
  bucket: number;
  device_id: string;
  sensor_type: string;
  avg_value: number;
  min_value: number;
  max_value: number;
  count: number;
  sum: number;
}

/** A reading that arrived after its hour had been emitted: its hour is recomputed from sensor_data. */
export interface LateReading {
  kind: 'late';
  device_id: string;
  sensor_type: string;
  value: number;
  unit: string | null;
  time: number;
  time_us?: number;
  time_source?: string;
}

const upsertRows = `INSERT INTO sensor_stats_hourly (bucket, device_id, sensor_type, avg_value, min_value, max_value, count, sum)
SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::bigint[], $8::float8[])
ON CONFLICT (bucket, device_id, sensor_type) DO UPDATE SET avg_value = EXCLUDED.avg_value, min_value = EXCLUDED.min_value,
  max_value = EXCLUDED.max_value, count = EXCLUDED.count, sum = EXCLUDED.sum`;

const insertReading = `INSERT INTO sensor_data (time, device_id, sensor_type, value, unit, time_source)
VALUES ($1::timestamptz + $6::int * interval '1 microsecond', $2, $3, $4, $5, $7)
ON CONFLICT (device_id, sensor_type, time) DO NOTHING`;

const recompute = `INSERT INTO sensor_stats_hourly (bucket, device_id, sensor_type, avg_value, min_value, max_value, count, sum)
SELECT $3::timestamptz, device_id, sensor_type, avg(value), min(value), max(value), count(*), sum(value)
FROM sensor_data WHERE device_id = $1 AND sensor_type = $2 AND time >= $3 AND time < $4
GROUP BY device_id, sensor_type
ON CONFLICT (bucket, device_id, sensor_type) DO UPDATE SET avg_value = EXCLUDED.avg_value, min_value = EXCLUDED.min_value,
  max_value = EXCLUDED.max_value, count = EXCLUDED.count, sum = EXCLUDED.sum`;
const recomputeIfFuller = `${recompute}
WHERE EXCLUDED.count >= sensor_stats_hourly.count`;

/**
 * Recomputes one (device, sensor, UTC hour) row of sensor_stats_hourly from sensor_data. With
 * `onlyIfFuller` (a late repair) not when sensor_data holds fewer readings of that hour than the row
 * already counts (timescale-sink has not loaded the hour yet, or retention deleted it): a partial
 * hour never replaces a fuller one. A replay, which loads sensor_data first, recomputes regardless.
 */
export async function recomputeHour(c: pg.ClientBase, deviceId: string, sensorType: string, hour: number, onlyIfFuller = false): Promise<void> {
  await c.query(onlyIfFuller ? recomputeIfFuller : recompute, [deviceId, sensorType, new Date(hour), new Date(hour + HOUR)]);
}

/**
 * Writes sensor_stats_hourly, one transaction per batch, in the batch's order: closed hours by upsert
 * (a batch processed again writes the same rows), then late readings: each goes into sensor_data
 * (once: its unique index) and its hour is recomputed from sensor_data, so the row equals the
 * recomputation from raw readings. In a replay (`bin/replay`) closed hours are recomputed from
 * sensor_data too, so the hours a replay covers end up equal to the raw readings (a reading the
 * MQTT connector delivered twice counts once). A failure throws; the runtime fetches the batch again.
 */
export function hourlyStatsSink(env: Record<string, string | undefined> = process.env): SinkFactory {
  return async (ctx) => {
    const cfg = loadConfig(timescaleSchema, env);
    const pool = new pg.Pool({ connectionString: cfg.TIMESCALE_URL, max: 2, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined); // an idle connection the server dropped: the next checkout replaces it
    pool.on('connect', (client) => client.on('error', () => undefined)); // and one checked out: its next query fails, and is retried
    const sink: Sink = {
      async check() {
        await pool.query('SELECT 1 FROM sensor_data, sensor_stats_hourly LIMIT 0').catch((err: Error) => {
          throw new SluiceError(`database for sensor_stats_hourly: ${err.message}`, { retriable: true, cause: err });
        });
      },
      topics: () => [],
      async write(records) {
        const values = records.map((r) => r.value as HourlyRow | LateReading);
        const rows = values.filter((v): v is HourlyRow => v.kind === 'final');
        const late = values.filter((v): v is LateReading => v.kind === 'late');
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          if (ctx.replay) {
            for (const r of rows) await recomputeHour(c, r.device_id, r.sensor_type, r.bucket);
          } else if (rows.length > 0) {
            const col = <K extends keyof HourlyRow>(k: K) => rows.map((r) => r[k]);
            await c.query(upsertRows, [col('bucket').map((t) => new Date(t)), col('device_id'), col('sensor_type'), col('avg_value'), col('min_value'), col('max_value'), col('count'), col('sum')]);
          }
          for (const r of late) await c.query(insertReading, [new Date(r.time), r.device_id, r.sensor_type, r.value, r.unit, r.time_us ?? 0, r.time_source ?? null]);
          const hours = new Map(late.map((r) => [`${r.device_id}\u0000${r.sensor_type}\u0000${r.time - (r.time % HOUR)}`, r]));
          for (const r of hours.values()) await recomputeHour(c, r.device_id, r.sensor_type, r.time - (r.time % HOUR), true);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw new SluiceError(`writing sensor_stats_hourly: ${(err as Error).message}`, { retriable: true, cause: err });
        } finally {
          c.release();
        }
      },
      close: () => pool.end(),
    };
    return sink;
  };
}
