import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { RegistryClient } from '../../serde/registry.ts';
import { AvroSerde, readSchema } from '../../serde/avro.ts';
import { valueSubject } from '../../naming.ts';
import { connectKafka } from '../../kafka/adapter.ts';
import { createLogger } from '../../log.ts';
import type { Reading } from './topologies.ts';

export const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
export const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const root = join(__dirname, '..', '..', '..');

/** Polls until `check` returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Creates the topics through the adapter, which waits until every partition has a leader (kafkajs's own wait does not always). */
export async function createTopics(topics: string[], partitions = 6): Promise<void> {
  const adapter = await connectKafka(brokers, 'sluice-test', createLogger('test', 'silent', 'stderr'));
  try {
    await adapter.ensureTopics(topics.map((topic) => ({ topic, partitions })));
  } finally {
    await adapter.close();
  }
}

/** Registers sensor-readings under `<topic>-value` for each topic and returns a serde for the first. */
export async function registerReadings(...topics: string[]): Promise<AvroSerde<Reading>> {
  const registry = new RegistryClient(registryUrl);
  for (const t of topics) await registry.register(valueSubject(t), readSchema('sensor-readings'));
  const serde = new AvroSerde<Reading>(registry, valueSubject(topics[0]!), readSchema('sensor-readings'));
  await serde.init();
  return serde;
}

export const reading = (i: number): Reading => ({
  device_id: `dev-${i % 50}`, sensor_type: 'temperature', value: 20 + (i % 100) / 10, unit: '°C', time: 1_790_000_000_000 + i, ingest_time: 1_790_000_000_000 + i,
});

export async function produce(topic: string, messages: { key: string; value: Buffer | null }[]): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 5000) {
    await producer.sendBatch({ topicMessages: [{ topic, messages: messages.slice(i, i + 5000) }] });
  }
  await producer.disconnect();
}

export async function endOffsets(topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  const rows = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return new Map(rows.map((r) => [r.partition, BigInt(r.high)]));
}

export async function total(topic: string): Promise<bigint> {
  let n = 0n;
  for (const v of (await endOffsets(topic)).values()) n += v;
  return n;
}

/** True when the group has committed exactly the end offset of every partition. */
export async function caughtUp(groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  const [row] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const rows = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const committed = new Map((row?.partitions ?? []).map((p) => [p.partition, p.offset]));
  return rows.every((r) => committed.get(r.partition) === r.high);
}

/**
 * Waits until `groupId` has committed the end offsets of `topic`. With the instance that runs it, one
 * that exits fails the wait at once, and a failure ends with the last lines of its log.
 */
export async function untilCaughtUp(groupId: string, topic: string, timeoutMs = 120_000, instance?: Instance): Promise<void> {
  try {
    await waitFor(`${groupId} to commit the end offsets of ${topic}`, async () => {
      const end = instance?.child.exitCode ?? instance?.child.signalCode;
      if (end != null) throw new Error(`${groupId}'s process ended (${end})`);
      return (await caughtUp(groupId, topic)) ? true : undefined;
    }, timeoutMs);
  } catch (err) {
    if (instance) (err as Error).message += `\n--- last lines of ${instance.log} ---\n${readFileSync(instance.log, 'utf8').trimEnd().split('\n').slice(-40).join('\n')}`;
    throw err;
  }
}

export interface ReadBack {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning until `count` records have arrived (pass the topic's total to
 * read it all); with `keep`, only the records it accepts are kept and counted; `client` reads
 * from another cluster than the shared one.
 */
export async function readAll(topic: string, count: number, timeoutMs = 60_000, opts: { keep?: (r: ReadBack) => boolean; client?: Kafka } = {}): Promise<ReadBack[]> {
  const keep = opts.keep ?? (() => true);
  const consumer = (opts.client ?? kafka).consumer({ groupId: `reader-${topic}-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: ReadBack[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      const r = { key: message.key?.toString() ?? null, value: message.value, headers };
      if (keep(r)) out.push(r);
    },
  });
  try {
    await waitFor(`${count} records on ${topic} (have ${out.length})`, async () => (out.length >= count ? true : undefined), timeoutMs);
    return out;
  } finally {
    await consumer.disconnect();
  }
}

export interface Instance {
  child: ChildProcess;
  exited: Promise<number | null>;
  log: string;
}

/** Starts `bin/run-topology <name>` with the test topologies (by default, the runtime's), output to a log file in /tmp. */
export function startInstance(name: string, testId: string, label: string, extraEnv: Record<string, string> = {}, topologies = join(__dirname, 'topologies.ts')): Instance {
  const log = join(tmpdir(), `${testId}-${label}.log`);
  const child = spawn(join(root, 'bin', 'run-topology'), [name, '--topologies', topologies], {
    // A short session timeout: a member killed by a test gives its partitions back sooner.
    env: { ...process.env, SLUICE_TEST_ID: testId, SLUICE_OPS_PORT: '0', SLUICE_LOG_LEVEL: 'info', SLUICE_SESSION_TIMEOUT_MS: '6000', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(log);
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, exited, log };
}
