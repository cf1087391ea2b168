import type pg from 'pg';
import { assertIdentifier, quote } from './table.ts';

/** Where each (topology, table, topic, partition) resumes; written in the same transaction as the rows. */
export const OFFSETS_TABLE = 'sluice_sink_offsets';

export interface SchemaOptions {
  /** The `timescaledb` extension is available: hypertable, compression, continuous aggregate. */
  timescale: boolean;
}

const common = [
  `CREATE TABLE IF NOT EXISTS ${OFFSETS_TABLE} (
  consumer_group text NOT NULL,
  target_table text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, target_table, topic, partition)
)`,
  `CREATE TABLE IF NOT EXISTS sensor_stats_hourly (
  bucket timestamptz NOT NULL,
  device_id text NOT NULL,
  sensor_type text NOT NULL,
  avg_value double precision NOT NULL,
  min_value double precision NOT NULL,
  max_value double precision NOT NULL,
  count bigint NOT NULL,
  sum double precision NOT NULL,
  PRIMARY KEY (bucket, device_id, sensor_type)
)`,
  `CREATE TABLE IF NOT EXISTS alerts (
  id text PRIMARY KEY,
  device_id text NOT NULL,
  sensor_type text NOT NULL,
  rule text NOT NULL,
  severity text NOT NULL,
  message text NOT NULL,
  value double precision,
  opened_at timestamptz NOT NULL,
  cleared_at timestamptz
)`,
  `CREATE TABLE IF NOT EXISTS sensor_data (
  time timestamptz NOT NULL,
  device_id text NOT NULL,
  sensor_type text NOT NULL,
  value double precision NOT NULL,
  unit text,
  time_source text
)`,
  // Databases made before readings said where their time came from.
  'ALTER TABLE sensor_data ADD COLUMN IF NOT EXISTS time_source text',
];

// The index the issue asks for, made unique: it is what stores a redelivered reading once.
// (TimescaleDB requires the time column in every unique index of a hypertable: it is there.)
const index = 'CREATE UNIQUE INDEX IF NOT EXISTS sensor_data_device_sensor_time ON sensor_data (device_id, sensor_type, time DESC)';

const hourly = (bucket: string) => `SELECT ${bucket} AS bucket, device_id, sensor_type,
  count(*) AS readings, avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value
FROM sensor_data GROUP BY 1, 2, 3`;

/**
 * TimescaleDB's time_bucket(interval, timestamptz) for plain PostgreSQL: buckets are counted in UTC from
 * TimescaleDB's origin, Monday 2000-01-03 (so weeks start on Mondays; for widths that divide a day this
 * is the same as epoch alignment), and month widths count whole months from 2000-01-01.
 */
const timeBucket = `CREATE OR REPLACE FUNCTION time_bucket(bucket_width interval, ts timestamptz) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  months int := extract(year FROM bucket_width)::int * 12 + extract(month FROM bucket_width)::int;
  utc timestamp := ts AT TIME ZONE 'UTC';
  since int;
BEGIN
  IF months = 0 THEN
    IF bucket_width <= interval '0' THEN RAISE EXCEPTION 'bucket width must be greater than 0, got %', bucket_width; END IF;
    RETURN date_bin(bucket_width, ts, timestamptz '2000-01-03 00:00:00+00');
  END IF;
  IF bucket_width <> make_interval(months => months) THEN
    RAISE EXCEPTION 'month intervals cannot have day or time component, got %', bucket_width;
  END IF;
  since := (extract(year FROM utc)::int - 2000) * 12 + extract(month FROM utc)::int - 1;
  RETURN (timestamp '2000-01-01' + make_interval(months => floor(since::numeric / months)::int * months)) AT TIME ZONE 'UTC';
END
$fn$`;

/** Idempotent DDL for the sink's tables, in order. Safe to run at every start and by `bin/timescale-schema`. */
export function schemaSql(o: SchemaOptions): string[] {
  if (!o.timescale) {
    return [...common, index, timeBucket, `CREATE OR REPLACE VIEW sensor_hourly AS ${hourly("time_bucket('1 hour', time)")}`];
  }
  return [
    'CREATE EXTENSION IF NOT EXISTS timescaledb',
    ...common,
    "SELECT create_hypertable('sensor_data', by_range('time', INTERVAL '1 day'), if_not_exists => TRUE)",
    index,
    `DO $do$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM timescaledb_information.compression_settings WHERE hypertable_name = 'sensor_data') THEN
    ALTER TABLE sensor_data SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = 'sensor_type, time DESC');
  END IF;
END $do$`,
    "SELECT add_compression_policy('sensor_data', INTERVAL '7 days', if_not_exists => TRUE)",
    // bin/retention deletes an hour only once every partition's rows of it are archived; a policy would not ask.
    "SELECT remove_retention_policy('sensor_data', if_exists => TRUE)",
    `CREATE MATERIALIZED VIEW IF NOT EXISTS sensor_hourly WITH (timescaledb.continuous) AS
${hourly("time_bucket(INTERVAL '1 hour', time)")}
WITH NO DATA`,
    "SELECT add_continuous_aggregate_policy('sensor_hourly', start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour', if_not_exists => TRUE)",
  ];
}

/**
 * Roles for least privilege: `writer` (the sink: insert rows, keep offsets, stage upserts in temp
 * tables) and `reader` (dashboards: select only). Both NOLOGIN; grant them to login roles, or
 * `ALTER ROLE … LOGIN PASSWORD …` with a secret of your own.
 */
export function rolesSql(database: string, writer: string, reader: string): string[] {
  for (const [what, name] of [['writer role', writer], ['reader role', reader]] as const) assertIdentifier(what, name);
  const create = (role: string) => `DO $do$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${quote(role)} NOLOGIN; END IF;
END $do$`;
  const db = `"${database.replaceAll('"', '""')}"`;
  return [
    create(writer),
    create(reader),
    `GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${quote(writer)}`,
    `GRANT CONNECT ON DATABASE ${db} TO ${quote(reader)}`,
    `GRANT USAGE ON SCHEMA public TO ${quote(writer)}, ${quote(reader)}`,
    `GRANT SELECT, INSERT ON sensor_data TO ${quote(writer)}`,
    `GRANT SELECT, INSERT, UPDATE ON ${OFFSETS_TABLE}, sensor_stats_hourly, alerts TO ${quote(writer)}`,
    `GRANT SELECT ON sensor_data, sensor_hourly, sensor_stats_hourly, alerts TO ${quote(reader)}`,
  ];
}

/** True when the `timescaledb` extension can be created in this database. */
export async function timescaleAvailable(c: pg.ClientBase): Promise<boolean> {
  const r = await c.query("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'");
  return (r.rowCount ?? 0) > 0;
}

/** Runs the DDL unless the sink's objects already exist (so a writer role without DDL rights can start). */
export async function ensureSchema(c: pg.ClientBase, force = false): Promise<string[]> {
  if (!force) {
    const r = await c.query(`SELECT to_regclass('sensor_data') IS NOT NULL AND to_regclass($1) IS NOT NULL AND to_regclass('sensor_hourly') IS NOT NULL
      AND EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'sensor_data' AND column_name = 'time_source') AS ok`, [OFFSETS_TABLE]);
    if (r.rows[0].ok) return [];
  }
  const sql = schemaSql({ timescale: await timescaleAvailable(c) });
  // Instances starting together on an empty database would race on CREATE … IF NOT EXISTS.
  await c.query("SELECT pg_advisory_lock(hashtext('sluice.timescale.schema'))");
  try {
    for (const statement of sql) await c.query(statement);
  } finally {
    await c.query("SELECT pg_advisory_unlock(hashtext('sluice.timescale.schema'))");
  }
  return sql;
}
