import pg from 'pg';
import { loadConfig } from '../../core/config.ts';
import { timescaleSchema } from './config.ts';
import { ensureSchema, rolesSql, schemaSql, timescaleAvailable } from './schema.ts';

export const usage = `usage: bin/timescale-schema [--print] [--roles <writer>,<reader>]

Creates the sink's tables in TIMESCALE_URL's database, idempotently: sensor_data, sluice_sink_offsets,
sensor_hourly, and either the TimescaleDB objects (hypertable, compression, retention policy after
ARCHIVE_DAYS when S3_BUCKET is set, continuous aggregate) or, without the extension, the
time_bucket(interval, timestamptz) function and a plain sensor_hourly view.

  --print                    print the SQL for this database instead of running it
  --roles <writer>,<reader>  also create (NOLOGIN) and grant the writer and read-only roles`;

export async function schemaCommand(args: { print: boolean; roles?: string; help?: boolean }, env = process.env, out = console.log): Promise<number> {
  if (args.help) {
    out(usage);
    return 0;
  }
  let cfg;
  try {
    cfg = loadConfig(timescaleSchema, env);
  } catch (err) {
    console.error(`bin/timescale-schema: ${(err as Error).message}`);
    return 2;
  }
  const opts = { archiveDays: cfg.ARCHIVE_DAYS, archiving: cfg.S3_BUCKET !== undefined };
  const client = new pg.Client({ connectionString: cfg.TIMESCALE_URL });
  await client.connect();
  try {
    const [writer, reader] = args.roles?.split(',') ?? [];
    if (args.roles !== undefined && (!writer || !reader)) {
      console.error('bin/timescale-schema: --roles takes <writer>,<reader>');
      return 2;
    }
    const roles = writer && reader ? rolesSql(client.database ?? '', writer, reader) : [];
    if (args.print) {
      out([...schemaSql({ ...opts, timescale: await timescaleAvailable(client) }), ...roles].map((s) => `${s};`).join('\n\n'));
      return 0;
    }
    const ran = await ensureSchema(client, opts, true);
    for (const s of roles) await client.query(s);
    out(`schema of ${client.database}: ${ran.length} statements applied (${ran[0]?.includes('timescaledb') ? 'TimescaleDB' : 'plain PostgreSQL'})${roles.length ? `; roles ${writer} (writer) and ${reader} (read-only) granted` : ''}`);
    return 0;
  } finally {
    await client.end();
  }
}
