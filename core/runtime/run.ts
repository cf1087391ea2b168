import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Topology, InRecord, OutRecord } from '../topology.ts';
import type { Sink, SinkContext } from '../sink.ts';
import { connectKafka, type ConsumerHandle, type KafkaAdapter, type OutgoingRecord, type RawBatch } from '../kafka/adapter.ts';
import { RegistryClient } from '../serde/registry.ts';
import { AvroSerde, readSchema } from '../serde/avro.ts';
import { SerdeError } from '../serde/errors.ts';
import { DLQ_TOPIC, consumerGroup, valueSubject } from '../naming.ts';
import { SluiceError } from '../errors.ts';
import { faultPoint } from '../fault.ts';
import { Task } from './task.ts';
import { deadLetter } from './dlq.ts';
import { createMetrics } from './metrics.ts';
import { startOpsServer } from './ops.ts';
import type { RuntimeConfig } from './config.ts';

export interface RunningTopology {
  /** The port /health, /ready and /metrics answer on. */
  readonly opsPort: number;
  /** Rejects when the topology stops on a fatal error. */
  readonly failed: Promise<never>;
  /** Stops fetching, finishes and commits the batch in progress, closes everything. */
  stop(): Promise<void>;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref())]);

/** Connects, checks every dependency, creates missing topics, then consumes until stopped. */
export async function startTopology<V>(topology: Topology<V>, cfg: RuntimeConfig, log: Logger): Promise<RunningTopology> {
  const metrics = createMetrics(topology.name);
  const registry = new RegistryClient(cfg.SCHEMA_REGISTRY_URL);
  const kafka = await connectKafka(cfg.KAFKA_BROKERS, `sluice-${topology.name}`, log);
  let server: Server | undefined;
  let consumer: ConsumerHandle | undefined;
  // The first assignment happens before kafka.consume() returns the handle a seek needs.
  let consumerStarted: (c: ConsumerHandle) => void = () => undefined;
  const started = new Promise<ConsumerHandle>((res) => (consumerStarted = res));
  const sinks = new Map<string, Sink>();
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);

  const closeAll = async () => {
    await consumer?.stop();
    for (const s of sinks.values()) await s.close().catch((err: unknown) => log.warn({ err }, 'sink close failed'));
    await kafka.close();
    server?.close();
  };

  try {
    const serde = new AvroSerde<V>(registry, valueSubject(topology.source.topic), readSchema(topology.source.schema));
    const ctx: SinkContext = { topology: topology.name, kafka, registry, log };
    for (const [name, factory] of Object.entries(topology.sinks)) sinks.set(name, await factory(ctx));

    const checks = async (): Promise<Record<string, boolean | string>> => {
      const result: Record<string, boolean | string> = {};
      const probe = async (name: string, p: () => Promise<unknown>) => {
        try {
          await withTimeout(p(), 5000, name);
          result[name] = true;
        } catch (err) {
          result[name] = (err as Error).message;
        }
      };
      await Promise.all([
        probe('kafka', () => kafka.ping()),
        probe('schema-registry', () => registry.versions(serde.subject)),
        ...[...sinks].map(([name, s]) => probe(`sink:${name}`, () => s.check())),
      ]);
      return result;
    };
    const initial = await checks();
    const broken = Object.entries(initial).filter(([, v]) => v !== true);
    if (broken.length > 0) {
      throw new SluiceError(`cannot start ${topology.name}: ${broken.map(([k, v]) => `${k}: ${v}`).join('; ')}`);
    }

    const partitions = cfg.SLUICE_PARTITIONS;
    const topics = [topology.source.topic, DLQ_TOPIC, ...[...sinks.values()].flatMap((s) => s.topics())];
    await kafka.ensureTopics([...new Set(topics)].map((topic) => ({ topic, partitions })));
    await serde.init().catch((err: unknown) => {
      // The source subject must exist so that its reader schema is known to the registry.
      throw new SluiceError(`cannot start ${topology.name}: ${(err as Error).message}`);
    });

    server = await startOpsServer({ port: cfg.SLUICE_OPS_PORT, metrics: metrics.registry, ready: checks });
    const address = server.address();
    const opsPort = typeof address === 'object' && address ? address.port : cfg.SLUICE_OPS_PORT;

    const tasks = new Map<number, Task<V>>();
    // Where each partition resumes when sinks keep their own offsets (the smallest they stored). Set
    // synchronously on assignment and awaited by every batch: kafkajs fetches from the committed offset
    // before the seek lands, and records below the stored offset must not be written twice.
    const resumeAt = new Map<number, Promise<bigint | undefined>>();
    const storedOffset = async (partition: number) => {
      let min: bigint | undefined;
      for (const sink of sinks.values()) {
        const o = await sink.resumeOffset?.({ topic: topology.source.topic, partition });
        if (o !== undefined && (min === undefined || BigInt(o) < min)) min = BigInt(o);
      }
      return min;
    };
    const processBatch = makeBatchProcessor({ topology, kafka, serde, sinks, metrics, tasks, resumeAt, log });

    consumer = await kafka.consume({
      groupId: consumerGroup(topology.name),
      topic: topology.source.topic,
      concurrency: cfg.SLUICE_CONCURRENCY,
      onBatch: async (batch, commit) => {
        try {
          await processBatch(batch, commit);
        } catch (err) {
          // A bug or a refusal that retrying cannot fix stops the process; the rest is retried by the client.
          if (err instanceof SluiceError && !err.retriable) fail(err);
          throw err;
        }
      },
      onAssign: async (assigned) => {
        for (const [p, task] of tasks) {
          if (assigned.includes(p)) continue;
          task.close();
          tasks.delete(p);
        }
        for (const p of assigned) resumeAt.set(p, storedOffset(p));
        log.info({ partitions: assigned }, 'partitions assigned');
        try {
          for (const p of assigned) {
            const offset = await resumeAt.get(p);
            if (offset !== undefined) await (await started).seek(p, offset.toString());
          }
        } catch (err) {
          fail(new SluiceError(`cannot read the offsets a sink stored: ${(err as Error).message}`, { cause: err }));
        }
      },
      onCrash: (err) => fail(new SluiceError(`the consumer stopped: ${err.message}`, { cause: err })),
    });
    consumerStarted(consumer);
    log.info({ topology: topology.name, source: topology.source.topic, sinks: [...sinks.keys()], opsPort }, 'started');

    return {
      opsPort,
      failed,
      stop: () => withTimeout(closeAll(), cfg.SLUICE_SHUTDOWN_TIMEOUT_MS, 'shutdown'),
    };
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
}

interface BatchDeps<V> {
  topology: Topology<V>;
  kafka: KafkaAdapter;
  serde: AvroSerde<V>;
  sinks: Map<string, Sink>;
  metrics: ReturnType<typeof createMetrics>;
  tasks: Map<number, Task<V>>;
  resumeAt: Map<number, Promise<bigint | undefined>>;
  log: Logger;
}

/**
 * decode → pipeline → every sink durable (and dead letters written) → commit. A failure of a
 * dependency throws before the commit, so the client fetches the batch again.
 */
function makeBatchProcessor<V>({ topology, kafka, serde, sinks, metrics, tasks, resumeAt, log }: BatchDeps<V>) {
  return async (batch: RawBatch, commit: () => Promise<void>) => {
    const { topic, partition } = batch;
    const from = await resumeAt.get(partition);
    const records = from === undefined ? batch.records : batch.records.filter((r) => BigInt(r.offset) >= from);
    if (records.length === 0) return commit(); // durable already, in the sinks that keep offsets
    const origin = { topology: topology.name, topic, partition };
    const dead: OutgoingRecord[] = [];
    const deadReason = (reason: string) => metrics.deadLetters.inc({ reason });

    await serde.prepare(records.map((r) => r.value));
    const inputs: InRecord<V>[] = [];
    for (const r of records) {
      try {
        const value = serde.decode(r.value);
        inputs.push({ topic, partition, offset: r.offset, key: r.key?.toString() ?? null, value, timestamp: r.timestamp, headers: r.headers });
      } catch (err) {
        if (!(err instanceof SerdeError)) throw err;
        dead.push(deadLetter(r, { ...origin, offset: r.offset }, err.reason, err));
        deadReason(err.reason);
      }
    }

    let task = tasks.get(partition);
    if (!task) tasks.set(partition, (task = new Task(topology.pipeline)));
    const outputs = task.process(inputs);

    const bySink = new Map<string, OutRecord[]>();
    for (const out of outputs) {
      if (!sinks.has(out.to)) throw new SluiceError(`pipeline of ${topology.name} emitted to "${out.to}", which is not one of its sinks: ${[...sinks.keys()].join(', ')}`);
      const list = bySink.get(out.to);
      if (list) list.push(out);
      else bySink.set(out.to, [out]);
    }
    const nextOffset = (BigInt(batch.records.at(-1)!.offset) + 1n).toString();
    await Promise.all([...bySink].map(async ([name, records]) => {
      await sinks.get(name)!.write(records, { topic, partition, nextOffset }, (rec, reason, error) => {
        const value = Buffer.from(JSON.stringify(rec.value) ?? 'null');
        dead.push(deadLetter({ key: rec.key === null ? null : Buffer.from(rec.key), value, headers: { ...rec.headers, 'sluice.sink': name } }, origin, reason, error));
        deadReason(reason);
      });
      metrics.recordsOut.inc({ sink: name }, records.length);
    }));
    if (dead.length > 0) await kafka.send([{ topic: DLQ_TOPIC, messages: dead }]);

    faultPoint('runtime.before-commit');
    const endTimer = metrics.commitSeconds.startTimer();
    await commit();
    endTimer();
    metrics.recordsIn.inc({ partition: String(partition) }, batch.records.length);
    metrics.batchSize.observe(batch.records.length);
    metrics.lag.set({ partition: String(partition) }, Number(BigInt(batch.highWatermark) - BigInt(nextOffset)));
    if (dead.length > 0) log.warn({ topic, partition, deadLetters: dead.length }, 'records sent to the dead-letter topic');
  };
}
