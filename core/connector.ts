import type { Logger } from 'pino';
import type { RunningTopology } from './runtime/run.ts';
import { assertTopologyName } from './naming.ts';
import { ConfigError } from './errors.ts';

/**
 * A process that brings data into Kafka from elsewhere (the MQTT connector), listed and run by
 * `bin/run-topology` next to the Kafka-sourced topologies. `run` reads its own configuration
 * (throwing ConfigError when it is wrong) and returns once it is running.
 */
export interface SourceConnector {
  readonly kind: 'source-connector';
  readonly name: string;
  readonly description: string;
  run(log: Logger): Promise<RunningTopology>;
}

export function defineConnector(def: Omit<SourceConnector, 'kind'>): SourceConnector {
  assertTopologyName(def.name);
  if (!def.description.trim()) throw new ConfigError(`connector ${def.name}: description must not be empty`);
  return Object.freeze({ ...def, kind: 'source-connector' as const });
}
