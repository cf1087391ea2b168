import type { OperatorFunction } from 'rxjs';
import type { SinkFactory } from './sink.ts';
import { ConfigError } from './errors.ts';
import { timePolicy, type TimeOptions } from './operators/event-time.ts';
import { assertTopicName, assertTopologyName } from './naming.ts';

/** A decoded source record, as the pipeline sees it. `offset` is a decimal string, as in Kafka. */
export interface InRecord<V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: V;
  /** The Kafka record timestamp, ms since the epoch. */
  readonly timestamp: number;
  /** Event time, ms since the epoch, from the source's `time` options (default: the value's `time` field). */
  readonly eventTime: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** What a pipeline emits: a record for the sink named `to`. */
export interface OutRecord<V = unknown> {
  readonly to: string;
  readonly key: string | null;
  readonly value: V;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TopologyDefinition<V> {
  /** Also the consumer group id and the prefix of internal topics: renaming it starts afresh. */
  name: string;
  /** One line, shown by `bin/run-topology`. */
  description: string;
  /** The topic read, and the name of its Avro schema in `schemas/<schema>.avsc`. */
  source: { topic: string; schema: string; time?: TimeOptions<V> };
  /**
   * RxJS operators from source records to output records, applied once per partition task.
   * They must emit synchronously (map, filter, scan, mergeMap to arrays, Sluice's time operators):
   * the runtime commits a batch once the outputs it caused are durable.
   */
  pipeline: OperatorFunction<InRecord<V>, OutRecord>;
  sinks: Record<string, SinkFactory>;
  /**
   * When the pipeline throws on a record, like Kafka Streams' processing exception handler:
   * `dead-letter` (default) sends the record to `sluice.dlq` with reason `pipeline` and the error,
   * drops what the pipeline had emitted for it, and goes on; `fail` stops the topology. State kept
   * in RxJS operators (`scan`) starts afresh after a dead-lettered record; state stores keep theirs.
   */
  onPipelineError?: 'dead-letter' | 'fail';
  /** Default port of the process's /health, /ready and /metrics (SLUICE_OPS_PORT overrides; else 9464). */
  opsPort?: number;
}

export type Topology<V = unknown> = Readonly<TopologyDefinition<V>>;

/**
 * Validates and freezes a topology.
 * @example defineTopology({ name: 'copy', description: 'copies readings', source: { topic: 'sensor-readings', schema: 'sensor-readings' },
 *   pipeline: map((r) => ({ to: 'out', key: r.key, value: r.value })), sinks: { out: kafkaSink({ topic: 'copy', schema: 'sensor-readings' }) } })
 */
export function defineTopology<V>(def: TopologyDefinition<V>): Topology<V> {
  assertTopologyName(def.name);
  assertTopicName(def.source.topic);
  if (Object.keys(def.sinks).length === 0) throw new ConfigError(`topology ${def.name}: sinks must name at least one sink`);
  timePolicy(def.source.time);
  if (def.onPipelineError !== undefined && !['dead-letter', 'fail'].includes(def.onPipelineError)) {
    throw new ConfigError(`topology ${def.name}: onPipelineError must be 'dead-letter' or 'fail', got ${JSON.stringify(def.onPipelineError)}`);
  }
  if (!def.description.trim()) throw new ConfigError(`topology ${def.name}: description must not be empty`);
  return Object.freeze({ ...def, source: Object.freeze({ ...def.source }), sinks: Object.freeze({ ...def.sinks }) });
}
