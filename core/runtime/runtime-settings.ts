import { z } from 'zod';
import { hostPorts } from '../config.ts';

const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);

/** What `bin/run-topology` reads from the environment. */
export const runtimeSchema = z.object({
  KAFKA_BROKERS: hostPorts,
  SCHEMA_REGISTRY_URL: z.url(),
  /** Partitions of topics Sluice creates (source, sinks, dead letters) when they are missing. */
  SLUICE_PARTITIONS: int(1, 10_000, 6),
  /**
   * Port of /health, /ready and /metrics; 0 picks a free one. Default: the process's own
   * (`opsPort` of its definition; `bin/run-topology` lists them), else 9464.
   */
  SLUICE_OPS_PORT: int(0, 65_535, 9464),
  /** Partitions processed at the same time by one process. */
  SLUICE_CONCURRENCY: int(1, 64, 2),
  /** How long SIGTERM may take to drain and commit before the process gives up, in ms. */
  SLUICE_SHUTDOWN_TIMEOUT_MS: int(1000, 600_000, 30_000),
  /** Consumer group session timeout, ms: how long a crashed member keeps its partitions. */
  SLUICE_SESSION_TIMEOUT_MS: int(6000, 300_000, 30_000),
  /**
   * Stateful topologies: how often (ms) state changes go to the changelogs and offsets are committed.
   * Longer: fewer changelog writes; after a crash, more outputs written again. 0: every batch.
   */
  SLUICE_COMMIT_INTERVAL_MS: int(0, 600_000, 1000),
  /** How often wall-clock timers (idle timeouts of windows) are looked at, in ms. */
  SLUICE_TICK_MS: int(10, 60_000, 1000),
  /**
   * How long start-up waits, ms, for each thing it needs that may come a moment late (Kafka, the
   * registry, a sink's database or store, the leaders of new topics, the group): then exit 1.
   */
  SLUICE_STARTUP_TIMEOUT_MS: int(1000, 3_600_000, 60_000),
});
export type RuntimeConfig = z.output<typeof runtimeSchema>;
