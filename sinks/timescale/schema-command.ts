import pg from 'pg';
import { explain, ConfigError, loadConfig } from '../../core/component.ts';
import { timescaleSchema } from './timescale-settings.ts';
import { ensureSchema, rolesSql, schemaSql, timescaleAvailable } from './schema.ts';

export const usage = `usage: bin/timescale-schema [--print] [--roles <writer>,<reader>]

Creates the sink's tables in TIMESCALE_URL's database, idempotently: sensor_data, sluice_sink_offsets,
sensor_hourly, and either the TimescaleDB objects (hypertable, compression, continuous
aggregate; no retention policy: bin/retention deletes what the archive confirms) or, without the extension, the
time_bucket(interval, timestamptz) function and a plain sensor_hourly view.

  --print                    print the SQL for this database instead of running it
  --roles <writer>,<reader>  also create (NOLOGIN) and grant the writer and read-only roles`;

/** `bin/timescale-schema`: returns the exit code; throws ConfigError on bad arguments or settings, and on failures. */
export async function schemaCommand(args: { print: boolean; roles?: string; help?: boolean }, env = process.env, out = console.log): Promise<number> {
  if (args.help) {
    out(usage);
    return 0;
  }
  const [writer, reader] = args.roles?.split(',') ?? [];
  if (args.roles !== undefined && (!writer || !reader)) throw new ConfigError(`--roles takes <writer>,<reader>, got "${args.roles}"`);
  const cfg = loadConfig(timescaleSchema, env);
  const client = new pg.Client({ connectionString: cfg.TIMESCALE_URL });
  await explain('cannot connect to TIMESCALE_URL', client.connect());
  try {
    const roles = writer && reader ? rolesSql(client.database ?? '', writer, reader) : [];
    if (args.print) {
      out([...schemaSql({ timescale: await timescaleAvailable(client) }), ...roles].map((s) => `${s};`).join('\n\n'));
      return 0;
    }
    const ran = await ensureSchema(client, true);
    for (const s of roles) await client.query(s);
    out(`schema of ${client.database}: ${ran.length} statements applied (${ran[0]?.includes('timescaledb') ? 'TimescaleDB' : 'plain PostgreSQL'})${roles.length ? `; roles ${writer} (writer) and ${reader} (read-only) granted` : ''}`);
    return 0;
  } finally {
    await client.end();
  }
}
