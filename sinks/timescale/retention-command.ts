import pg from 'pg';
import { z } from 'zod';
import { runtimeSchema, loadConfig, connectKafka, createLogger, explain } from '../../core/component.ts';
import { createS3Client, s3Schema } from '../s3/client.ts';
import { archiveSchema } from '../archive/archive-settings.ts';
import { timescaleSchema } from './timescale-settings.ts';
import { archivedHours, deleteHour, planRetention } from './retention.ts';
import { manifestsRoot, readManifests } from '../archive/manifest.ts';

const retentionEnv = s3Schema.extend({
  TIMESCALE_URL: timescaleSchema.shape.TIMESCALE_URL,
  KAFKA_BROKERS: runtimeSchema.shape.KAFKA_BROKERS,
  ARCHIVE_PREFIX: archiveSchema.shape.ARCHIVE_PREFIX,
  /** The topic the archiver archives: every partition of it must be archived through an hour. */
  ARCHIVE_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/).default('sensor-readings'),
  ARCHIVE_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
});

export const usage = `usage: bin/retention [--execute] [--force]

Deletes rows of sensor_data older than ARCHIVE_DAYS (default 30), one UTC hour at a time, for the hours
the archiver has confirmed archived (manifests under s3://$S3_BUCKET/$ARCHIVE_PREFIX/_manifests/,
ARCHIVE_PREFIX default sensor_readings) in every partition of ARCHIVE_TOPIC (sensor-readings; its
end offsets from KAFKA_BROKERS). Dry run unless --execute; prints each hour and its verdict.

  --execute  delete (default: only print what would be deleted)
  --force    delete old hours even when they are not confirmed archived (or no manifest exists)`;

async function endOffsets(brokers: string[], topic: string): Promise<Map<number, bigint>> {
  const kafka = await connectKafka(brokers, 'sluice-retention', createLogger('retention', process.env.SLUICE_LOG_LEVEL ?? 'silent', 'stderr'));
  try {
    return new Map((await kafka.watermarks(topic)).map((w) => [w.partition, BigInt(w.high)]));
  } finally {
    await kafka.close();
  }
}

/** `bin/retention`: returns the exit code; `out` receives the report lines. Throws ConfigError on bad settings, and on failures. */
export async function retentionCommand(args: { execute: boolean; force: boolean; help?: boolean }, env = process.env, out = console.log): Promise<number> {
  if (args.help) {
    out(usage);
    return 0;
  }
  const cfg = loadConfig(retentionEnv, env);
  const where = `s3://${cfg.S3_BUCKET}/${manifestsRoot(cfg.ARCHIVE_PREFIX)}`;
  const manifests = await explain(`cannot read the archive manifests under ${where}`, readManifests(createS3Client(cfg), cfg.S3_BUCKET, cfg.ARCHIVE_PREFIX));
  if (manifests.length === 0 && !args.force) {
    out(`refusing: no archive manifests under ${where}, so no hour is confirmed archived. Is the archiver running? (--force deletes anyway)`);
    return 2;
  }
  const cutoff = new Date(Date.now() - cfg.ARCHIVE_DAYS * 86_400_000);
  const client = new pg.Client({ connectionString: cfg.TIMESCALE_URL });
  await explain('cannot connect to TIMESCALE_URL', client.connect());
  try {
    // --force asks no partition, so it needs no Kafka.
    const archived = args.force ? () => true
      : archivedHours(manifests, await explain(`cannot read the end offsets of ${cfg.ARCHIVE_TOPIC} from KAFKA_BROKERS`, endOffsets(cfg.KAFKA_BROKERS, cfg.ARCHIVE_TOPIC)));
    const plan = await planRetention(client, cutoff, archived);
    let rows = 0;
    for (const h of plan) {
      const hour = `${h.hour.toISOString().slice(0, 13)}:00Z`;
      if (!h.delete) {
        out(`${hour}  ${h.rows} rows  keep: not confirmed archived`);
        continue;
      }
      const n = args.execute ? await deleteHour(client, h.hour) : h.rows;
      rows += n;
      out(`${hour}  ${n} rows  ${args.execute ? 'deleted' : 'would delete'}`);
    }
    const kept = plan.filter((h) => !h.delete).length;
    out(`${args.execute ? 'deleted' : 'would delete'} ${rows} rows in ${plan.length - kept} hours older than ${cutoff.toISOString()} (ARCHIVE_DAYS=${cfg.ARCHIVE_DAYS}); kept ${kept} hours not confirmed archived${args.execute ? '' : '; dry run, --execute deletes'}`);
    return 0;
  } finally {
    await client.end();
  }
}
