import { z } from 'zod';

/** What the TimescaleDB / PostgreSQL sink and `bin/timescale-schema` read from the environment. */
export const timescaleSchema = z.object({
  TIMESCALE_URL: z.url().describe('postgres://user[:password]@host:port/database (the writer role in production).'),
  TIMESCALE_SCHEMA: z.enum(['auto', 'off']).default('auto').describe('`auto` creates missing tables at start; `off` expects `bin/timescale-schema` to have run.'),
  TIMESCALE_POOL_SIZE: z.coerce.number().int().min(1).max(64).default(4).describe('Connections per sink (partitions written at the same time).'),
});
export type TimescaleConfig = z.output<typeof timescaleSchema>;
