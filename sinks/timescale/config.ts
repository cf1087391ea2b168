import { z } from 'zod';

/** What the TimescaleDB / PostgreSQL sink and `bin/timescale-schema` read from the environment. */
export const timescaleSchema = z.object({
  /** postgres://user[:password]@host:port/database (the writer role in production). */
  TIMESCALE_URL: z.url(),
  /** Days readings stay in the hot table once archived. */
  ARCHIVE_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
  /** Archiving is configured when a bucket is: only then may TimescaleDB drop old chunks. */
  S3_BUCKET: z.string().min(3).optional(),
  /** `auto` creates missing tables at start; `off` expects `bin/timescale-schema` to have run. */
  TIMESCALE_SCHEMA: z.enum(['auto', 'off']).default('auto'),
  /** Connections per sink (partitions written at the same time). */
  TIMESCALE_POOL_SIZE: z.coerce.number().int().min(1).max(64).default(4),
});
export type TimescaleConfig = z.output<typeof timescaleSchema>;
