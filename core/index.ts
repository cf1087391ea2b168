// The public API of Sluice for people who write topologies; core/component.ts adds what components
// (sources, sinks) are built from. What neither exports is internal.
export { defineTopology, type Topology, type TopologyDefinition, type InRecord, type OutRecord } from './topology.ts';
export { defineConnector, type SourceConnector } from './connector.ts';
export type { Sink, SinkFactory, SinkContext } from './sink.ts';
export { SluiceError, ConfigError } from './errors.ts';
export { loadConfig, type Env } from './config.ts';
export type { TopologyEntry, Entry } from './runtime/cli.ts';
export { kafkaSink } from './kafka/kafka-sink.ts';
export { TimeWindows, seconds, minutes, hours, type Window, type WindowSpec } from './windows.ts';
export { windowedAggregate, type WindowedAggregateOptions, type WindowedResult, type LateRecord } from './operators/windowed-aggregate.ts';
export type { TimeOptions } from './operators/event-time.ts';
export { stateful, type StatefulOptions } from './operators/stateful.ts';
export { KeyValueStore } from './state/store.ts';
