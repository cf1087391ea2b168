import { z } from 'zod';
import { hostPorts } from '../config.ts';

/** Read by scripts too, which pass `NAME=` through: empty counts as not set. */
const emptyIsUnset = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);
const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);

/** What `bin/run-topology` reads from the environment. */
export const runtimeSchema = z.object({
  KAFKA_BROKERS: hostPorts.describe('Kafka bootstrap servers, host:port[,host:port…].'),
  SCHEMA_REGISTRY_URL: z.url().describe('The Confluent-compatible schema registry (Apicurio: …/apis/ccompat/v7).'),
  SLUICE_PARTITIONS: int(1, 10_000, 6).describe('Partitions of topics Sluice creates (source, sinks, dead letters) when they are missing.'),
  SLUICE_OPS_PORT: int(0, 65_535, 9464).describe('Port of /health, /ready and /metrics; 0 picks a free one. Default: the process\'s own (`opsPort` of its definition; `bin/run-topology` lists them), else 9464.'),
  SLUICE_CONCURRENCY: int(1, 64, 2).describe('Partitions processed at the same time by one process.'),
  SLUICE_SHUTDOWN_TIMEOUT_MS: int(1000, 600_000, 30_000).describe('How long SIGTERM may take to drain and commit before the process gives up, in ms.'),
  SLUICE_SESSION_TIMEOUT_MS: int(6000, 300_000, 30_000).describe('Consumer group session timeout, ms: how long a crashed member keeps its partitions.'),
  SLUICE_COMMIT_INTERVAL_MS: int(0, 600_000, 1000).describe('Stateful topologies: how often (ms) state changes go to the changelogs and offsets are committed. Longer: fewer changelog writes; after a crash, more outputs written again. 0: every batch.'),
  SLUICE_TICK_MS: int(10, 60_000, 1000).describe('How often wall-clock timers (idle timeouts of windows) are looked at, in ms.'),
  SLUICE_STARTUP_TIMEOUT_MS: int(1000, 3_600_000, 60_000).describe('How long start-up waits, ms, for each thing it needs that may come a moment late (Kafka, the registry, a sink\'s database or store, the leaders of new topics, the group): then exit 1.'),
  SLUICE_HEAP_MB: emptyIsUnset(z.coerce.number().int().min(16).max(1_048_576).optional()).describe('Caps the old generation of the process\'s heap (V8 --max-old-space-size), MiB; not set: V8\'s default. bin/run-topology also gives V8 32 MiB semi-spaces, so the records of a fetched batch die young.'),
  SLUICE_LOG_LEVEL: emptyIsUnset(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')).describe('Level of the JSON log lines (debug adds an error\'s stack and causes).'),
});
export type RuntimeConfig = z.output<typeof runtimeSchema>;
