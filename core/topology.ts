import type { OperatorFunction } from 'rxjs';
import type { SinkFactory } from './sink.ts';
import { ConfigError } from './errors.ts';
import { timePolicy, type TimeOptions } from './operators/eventTime.ts';
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
  if (!def.description.trim()) throw new ConfigError(`topology ${def.name}: description must not be empty`);
  return Object.freeze({ ...def, source: Object.freeze({ ...def.source }), sinks: Object.freeze({ ...def.sinks }) });
}
