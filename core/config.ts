import { z } from 'zod';
import { ConfigError } from './errors.ts';

/** A comma-separated list of host:port. */
export const hostPorts = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1, 'expected at least one host:port'));

/** Connection settings for the services, from the environment variables operators already use. */
export const connectionSchema = z.object({
  KAFKA_BROKERS: hostPorts,
  SCHEMA_REGISTRY_URL: z.url(),
  S3_ENDPOINT: z.url().optional(),
  S3_BUCKET: z.string().min(3),
  S3_REGION: z.string().default('us-east-1'),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** A request to the object store that has not answered after this long fails (and is retried), in ms. */
  S3_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  TIMESCALE_URL: z.url(),
  MQTT_BROKER: z.url(),
});
export type Connections = z.output<typeof connectionSchema>;

/**
 * Validates `env` against `schema`. The error names every variable that is missing or wrong and
 * never repeats a value, so secrets cannot leak through it.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const name = i.path.join('.');
    return `  ${name}: ${env[String(i.path[0])] === undefined ? 'not set' : i.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
