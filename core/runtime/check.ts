import type { Logger } from 'pino';
import type { Topology } from '../topology.ts';
import type { CheckResult } from '../connector.ts';
import type { Sink, SinkContext } from '../sink.ts';
import { ConfigError } from '../errors.ts';
import { describe } from '../cli.ts';
import { connectKafka, type KafkaAdapter } from '../kafka/adapter.ts';
import { RegistryClient } from '../serde/registry.ts';
import { AvroSerde, readSchema } from '../serde/avro.ts';
import { DLQ_TOPIC, changelogTopic, consumerGroup, valueSubject } from '../naming.ts';
import { storesOf } from './tasks.ts';
import type { RuntimeConfig } from './runtime-settings.ts';

/** How long `--check` waits for each dependency: as start-up would (SLUICE_STARTUP_TIMEOUT_MS), at most 10 s. */
export const checkTimeoutMs = (cfg: Pick<RuntimeConfig, 'SLUICE_STARTUP_TIMEOUT_MS'>) => Math.min(cfg.SLUICE_STARTUP_TIMEOUT_MS, 10_000);

/** Settles as `work` does, or rejects after `ms`. */
export function withinMs<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Runs the probes at once; each → true, or its error in one line. A ConfigError is thrown instead (exit 2). */
export async function probeAll(probes: Record<string, () => Promise<unknown>>, ms: number): Promise<Record<string, true | string>> {
  const entries = await Promise.all(Object.entries(probes).map(async ([name, p]): Promise<[string, true | string]> => {
    try {
      await withinMs(p(), ms, name);
      return [name, true];
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      return [name, describe(err).replace(/\s*\n\s*/g, '; ')];
    }
  }));
  return Object.fromEntries(entries);
}

/** Connects within `ms`, or returns why not. */
export async function connectForCheck(brokers: string[], clientId: string, log: Logger, ms: number): Promise<KafkaAdapter | Error> {
  try {
    const kafka = await connectKafka(brokers, clientId, log, { timeoutMs: ms });
    await withinMs(kafka.ping(), ms, 'Kafka').catch(async (err: unknown) => {
      await kafka.close().catch(() => undefined);
      throw err;
    });
    return kafka;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Stands in for Kafka when it did not answer: sinks can still be built and checked (those that need Kafka fail). */
const unreachable = (why: Error): KafkaAdapter => new Proxy({} as KafkaAdapter, {
  get: (_, prop) => (prop === 'then' ? undefined : prop === 'close' ? async () => undefined : async () => {
    throw new Error(`Kafka did not answer: ${describe(why)}`);
  }),
});

/**
 * `bin/run-topology <name> --check` for a topology: connects to Kafka and the schema registry (the
 * source's reader schema must be registered), builds each sink and runs its `check()`, then closes
 * everything. It joins no group, reads no record and creates no topic.
 */
export async function checkTopology<V>(topology: Topology<V>, cfg: RuntimeConfig, log: Logger): Promise<CheckResult> {
  const ms = checkTimeoutMs(cfg);
  const stores = storesOf(topology);
  const registry = new RegistryClient(cfg.SCHEMA_REGISTRY_URL, { timeoutMs: ms });
  const connected = await connectForCheck(cfg.KAFKA_BROKERS, `sluice-${topology.name}-check`, log, ms);
  const kafka = connected instanceof Error ? unreachable(connected) : connected;
  const sinks = new Map<string, Sink>();
  try {
    const ctx: SinkContext = { topology: topology.name, group: consumerGroup(topology.name), kafka, registry, log, durableChanged: () => undefined, member: async () => undefined, membership: () => undefined };
    const dependencies: Record<string, true | string> = {
      kafka: connected instanceof Error ? describe(connected).replace(/\s*\n\s*/g, '; ') : true,
      ...await probeAll({
        'schema-registry': () => new AvroSerde(registry, valueSubject(topology.source.topic), readSchema(topology.source.schema)).init(),
        ...Object.fromEntries(Object.entries(topology.sinks).map(([name, factory]) => [`sink:${name}`, async () => {
          const sink = await factory(ctx);
          sinks.set(name, sink);
          await sink.check();
        }])),
      }, ms),
    };
    const sinkLines = Object.keys(topology.sinks).map((name) => {
      const topics = sinks.get(name)?.topics() ?? [];
      return topics.length > 0 ? `${name} (Kafka ${topics.join(', ')})` : name;
    });
    const plan = [
      `consumer group: ${consumerGroup(topology.name)}`,
      `source: ${topology.source.topic} (Avro ${topology.source.schema}, subject ${valueSubject(topology.source.topic)})`,
      `sinks: ${sinkLines.join(', ')}`,
      `dead letters: ${DLQ_TOPIC}`,
      `state stores: ${stores.length === 0 ? 'none' : stores.map((s) => `${s} (changelog ${changelogTopic(topology.name, s)})`).join(', ')}`,
      `ops port: ${cfg.SLUICE_OPS_PORT}`,
    ];
    return { plan, dependencies };
  } finally {
    for (const s of sinks.values()) await s.close().catch(() => undefined);
    await kafka.close().catch(() => undefined);
  }
}
