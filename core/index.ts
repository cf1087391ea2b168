// The public API of Sluice. What is not exported here is internal.
export { defineTopology, type Topology, type TopologyDefinition, type InRecord, type OutRecord } from './topology.ts';
export { defineConnector, type SourceConnector } from './connector.ts';
export type { Sink, SinkFactory, SinkContext } from './sink.ts';
export { SluiceError, ConfigError } from './errors.ts';
export { kafkaSink } from '../sinks/kafka/sink.ts';
