import type { Logger } from 'pino';
import type { z } from 'zod';
import type { RunningTopology } from './runtime/run.ts';
import type { Env } from './config.ts';
import { assertTopologyName } from './naming.ts';
import { ConfigError } from './errors.ts';

/** What `bin/run-topology <name> --check` found: the plan, and how each dependency answered. */
export interface CheckResult {
  /** What the process reads, writes and keeps, one line each (`source: …`, `sinks: …`, `state stores: …`). */
  plan: string[];
  /** Dependency (`kafka`, `schema-registry`, `sink:db`, `mqtt`) → true, or why it did not answer. */
  dependencies: Record<string, true | string>;
}

/**
 * A process that brings data into Kafka from elsewhere (the MQTT connector), listed and run by
 * `bin/run-topology` next to the Kafka-sourced topologies. `run` reads its own configuration from
 * `env` (throwing ConfigError when it is wrong) and returns once it is running.
 */
export interface SourceConnector {
  readonly kind: 'source-connector';
  readonly name: string;
  readonly description: string;
  /** Default port of /health, /ready and /metrics (SLUICE_OPS_PORT overrides; else 9464). */
  readonly opsPort?: number;
  /** The schemas of what it reads from the environment, shown (masked) by `--check`. */
  readonly settings?: readonly z.ZodObject[];
  run(log: Logger, env: Env): Promise<RunningTopology>;
  /** `--check`: reads its configuration, asks each dependency once, and consumes and creates nothing. */
  check?(log: Logger, env: Env): Promise<CheckResult>;
}

export function defineConnector(def: Omit<SourceConnector, 'kind'>): SourceConnector {
  assertTopologyName(def.name);
  if (!def.description.trim()) throw new ConfigError(`connector ${def.name}: description must not be empty`);
  return Object.freeze({ ...def, kind: 'source-connector' as const });
}
