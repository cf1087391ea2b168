import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../../core/config.ts';
import { connectionSchema } from '../../../infra/stack/connections.ts';
import type { Reading } from '../../../schemas/records.ts';

/** A database of its own with a sensor_data table holding `rows`; returns its URL and a drop function. */
export async function sensorData(rows: readonly Reading[]) {
  const conn = loadConfig(connectionSchema);
  const db = `sluice_test_${randomBytes(4).toString('hex')}`;
  const ident = `"${db}"`; // generated above: letters, digits and _
  const admin = new pg.Client({ connectionString: conn.TIMESCALE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${ident}`);
  const url = new URL(conn.TIMESCALE_URL);
  url.pathname = `/${db}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query('CREATE TABLE sensor_data (time timestamptz NOT NULL, device_id text NOT NULL, sensor_type text NOT NULL, value double precision NOT NULL, unit text)');
  await client.query(
    'INSERT INTO sensor_data SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[], $5::text[])',
    [rows.map((r) => new Date(r.time)), rows.map((r) => r.device_id), rows.map((r) => r.sensor_type), rows.map((r) => r.value), rows.map((r) => r.unit)],
  );
  return {
    url: url.toString(),
    client,
    async drop() {
      await client.end();
      await admin.query(`DROP DATABASE ${ident}`);
      await admin.end();
    },
  };
}

/** Runs bin/archive-verify over 2026-11-20 (UTC), the day of the archive tests' readings, with `env` added. */
export const verify = (env: Record<string, string>) => spawnSync(join(__dirname, '..', '..', '..', 'bin', 'archive-verify'), ['--from', '2026-11-20T00:00:00Z', '--to', '2026-11-21T00:00:00+00:00'], {
  env: { ...process.env, ...env }, encoding: 'utf8',
});
