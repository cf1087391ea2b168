// The API for people who write components: source connectors, sinks and the commands that come with
// them. It is everything core/index.ts gives topology authors, and the parts of the runtime a
// component is built from. What neither exports is internal (core/boundaries.test.ts).
export * from './index.ts';
export type { SourcePartition, Reject, SendDeadLetters } from './sink.ts';
export type { CheckResult } from './connector.ts';
export { hostPorts, maskSetting } from './config.ts';
export { runCommand, explain } from './cli.ts';
export { faultPoint } from './fault.ts';
export { connectKafka, type KafkaAdapter, type OutgoingBatch, type OutgoingRecord } from './kafka/adapter.ts';
export { createLogger } from './log.ts';
export { DLQ_TOPIC, valueSubject } from './naming.ts';
export { retry, backoffDelay, untilReady } from './retry.ts';
export { settingDocs, settingsMarkdown, settingsHelp, type SettingDoc } from './settings-doc.ts';
export { AvroSerde, readSchema } from './serde/avro.ts';
export { RegistryClient } from './serde/registry.ts';

// The runtime's parts: a source connector still assembles its own process from them (issue 21).
export { runtimeSchema } from './runtime/runtime-settings.ts';
export { checkTimeoutMs, connectForCheck, probeAll } from './runtime/check.ts';
export { deadLetter } from './runtime/dlq.ts';
export { createMetrics } from './runtime/metrics.ts';
export { startOpsServer } from './runtime/ops.ts';
export type { RunningTopology } from './runtime/run.ts';

// The commands of bin/.
export { runTopologyCommand } from './runtime/cli.ts';
export { replayCommand } from './replay/command.ts';
export { registerSchemasCommand } from './serde/register-command.ts';
export { drained, pipelineStatus, statusLine, type PipelineProcess, type PipelineStatus } from './runtime/status.ts';
