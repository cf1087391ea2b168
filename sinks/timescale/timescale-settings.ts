import { z } from 'zod';

/** What the TimescaleDB / PostgreSQL sink and `bin/timescale-schema` read from the environment. */
export const timescaleSchema = z.object({
  /** postgres://user[:password]@host:port/database (the writer role in production). */
  TIMESCALE_URL: z.url(),
  /** `auto` creates missing tables at start; `off` expects `bin/timescale-schema` to have run. */
  TIMESCALE_SCHEMA: z.enum(['auto', 'off']).default('auto'),
  /** Connections per sink (partitions written at the same time). */
  TIMESCALE_POOL_SIZE: z.coerce.number().int().min(1).max(64).default(4),
});
export type TimescaleConfig = z.output<typeof timescaleSchema>;
