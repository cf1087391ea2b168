import { explain, ConfigError, loadConfig } from '../../core/component.ts';
import { archiveSchema, destinationOf } from './archive-settings.ts';
import { timescaleSchema } from '../timescale/timescale-settings.ts';
import { countArchive, countTable } from './verify.ts';
import { compare, formatTable } from './table.ts';

export const usage = `usage: bin/archive-verify [--from <time>] [--to <time>]

Reads the archived Parquet files back and compares their rows per event-time hour (UTC) with
sensor_data in PostgreSQL, over [from, to). Times are ISO 8601 with a timezone, e.g.
2026-11-27T10:00:00Z (default: from 1970, to now). Exits 1 when an hour differs or a Kafka offset
was archived twice.

Environment: TIMESCALE_URL, and the archive's settings (S3_BUCKET or ARCHIVE_DIR, S3_*, ARCHIVE_PREFIX).`;

const withZone = /(Z|[+-]\d\d:?\d\d)$/i;

function parseTime(name: string, value: string | undefined, def: Date): Date {
  if (value === undefined) return def;
  const t = new Date(value);
  if (!withZone.test(value) || Number.isNaN(t.getTime())) throw new ConfigError(`--${name} must be an ISO 8601 time with a timezone (e.g. 2026-11-27T10:00:00Z), got "${value}"`);
  return t;
}

/** `bin/archive-verify`: returns the exit code (1: a difference); throws ConfigError on bad arguments or settings, and on failures. */
export async function archiveVerifyCommand(args: { from?: string; to?: string; help?: boolean }, env = process.env): Promise<number> {
  if (args.help) {
    console.log(usage);
    return 0;
  }
  const from = parseTime('from', args.from, new Date(0));
  const to = parseTime('to', args.to, new Date());
  const cfg = loadConfig(archiveSchema.extend({ TIMESCALE_URL: timescaleSchema.shape.TIMESCALE_URL }), env);
  const [archive, table] = await Promise.all([
    explain('cannot read the archive', countArchive(destinationOf(cfg), cfg.ARCHIVE_PREFIX, from, to)),
    explain('cannot read sensor_data', countTable(cfg.TIMESCALE_URL, from, to)),
  ]);
  const rows = compare(archive.byHour, table);
  console.log(formatTable(rows));
  const differing = rows.filter((r) => r.archive !== r.table).length;
  console.log(`${archive.files} files read; ${rows.length} hours, ${differing} differing; ${archive.duplicates} rows archived twice`);
  return differing === 0 && archive.duplicates === 0 ? 0 : 1;
}
