import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Topology, InRecord } from '../topology.ts';
import type { Sink, SinkContext, SourcePartition } from '../sink.ts';
import { connectKafka, type ConsumerHandle, type OutgoingRecord, type RawBatch } from '../kafka/adapter.ts';
import { RegistryClient } from '../serde/registry.ts';
import { AvroSerde, readSchema } from '../serde/avro.ts';
import { SerdeError } from '../serde/errors.ts';
import { DLQ_TOPIC, changelogTopic, consumerGroup, valueSubject } from '../naming.ts';
import { ConfigError, SluiceError } from '../errors.ts';
import { NotReadyError, untilReady } from '../retry.ts';
import { faultPoint } from '../fault.ts';
import { durableCommitter } from './commits.ts';
import { PartitionTasks, type StoredOffsets } from './tasks.ts';
import { EndOffsets } from './bounds.ts';
import { deadLetter } from './dlq.ts';
import { createMetrics } from './metrics.ts';
import { startOpsServer } from './ops.ts';
import type { RuntimeConfig } from './runtime-settings.ts';

export interface RunningTopology {
  /** The port /health, /ready and /metrics answer on. */
  readonly opsPort: number;
  /** Rejects when the topology stops on a fatal error. */
  readonly failed: Promise<never>;
  /** Stops fetching, finishes and commits the batch in progress, closes everything. */
  stop(): Promise<void>;
}

/** How a run differs from the topology's live one (a replay sets them all). */
export interface RunOptions {
  /** Consumer group; default: the topology's name. Sinks that keep offsets keep them under it. */
  groupId?: string;
  /** Prefix of the changelog topics of the state stores; default: the topology's name. */
  stateNamespace?: string;
  /**
   * Where each partition starts, for a group that does not exist yet: committed for it before it
   * joins (a seek on assignment would land after the first fetch, and records would be processed twice).
   */
  startOffsets?: ReadonlyMap<number, string>;
  /** Each partition is read up to, not including, this offset; see `finished`. */
  endOffsets?: ReadonlyMap<number, string>;
  /** A replay's event-time range, ms: windows it covers only in part are not emitted (they would be partial). */
  replayed?: { from: number; to: number };
  /** Whether wall-clock timers (idle timeouts of windows) fire; default true. */
  wallClock?: boolean;
  /** Called after each committed batch with where the partition resumes. */
  onProgress?(partition: number, nextOffset: string): void;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref())]);

/** Connects, checks every dependency, creates missing topics, then consumes until stopped. */
export async function startTopology<V>(topology: Topology<V>, cfg: RuntimeConfig, log: Logger, opts: RunOptions = {}): Promise<RunningTopology & {
  /** With `endOffsets`: resolves once every partition is processed up to its end (its outputs durable). Otherwise never. */
  readonly finished: Promise<void>;
}> {
  const groupId = opts.groupId ?? consumerGroup(topology.name);
  const namespace = opts.stateNamespace ?? topology.name;
  const bounds = opts.endOffsets && new EndOffsets(opts.endOffsets, opts.startOffsets);
  const metrics = createMetrics(topology.name);
  // Every step of start-up waits out what is normal while services come up (core/retry.ts).
  const startup = { timeoutMs: cfg.SLUICE_STARTUP_TIMEOUT_MS, setting: 'SLUICE_STARTUP_TIMEOUT_MS', log };
  const registry = new RegistryClient(cfg.SCHEMA_REGISTRY_URL, startup);
  const kafka = await connectKafka(cfg.KAFKA_BROKERS, `sluice-${topology.name}`, log, startup);
  let server: Server | undefined;
  let consumer: ConsumerHandle | undefined;
  let tasks: PartitionTasks<V> | undefined;
  let ticker: NodeJS.Timeout | undefined;
  // The first assignment happens before kafka.consume() returns the handle a seek needs.
  let consumerStarted: (c: ConsumerHandle) => void = () => undefined;
  const started = new Promise<ConsumerHandle>((res) => (consumerStarted = res));
  const sinks = new Map<string, Sink>();
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const commitDurable = durableCommitter(
    (partition) => lowestDurable(sinks.values(), { topic: topology.source.topic, partition }, tasks?.committable(partition)),
    async (partition, offset) => (await started).commit(partition, offset),
  );
  const commitAllDurable = () => Promise.all((tasks?.active() ?? []).map((p) => commitDurable(p).catch((err: unknown) => {
    log.warn({ err, partition: p }, 'commit failed; the next tick tries again');
  })));

  const closeAll = async () => {
    clearInterval(ticker);
    for (const s of sinks.values()) s.stopping?.();
    await consumer?.stop();
    tasks?.close();
    for (const s of sinks.values()) await s.close().catch((err: unknown) => log.warn({ err }, 'sink close failed'));
    await kafka.close();
    server?.close();
  };

  try {
    const serde = new AvroSerde<V>(registry, valueSubject(topology.source.topic), readSchema(topology.source.schema));
    const member = async (o?: { confirm?: boolean }) => consumer?.member(o);
    // Set at every assignment, before its first batch (the consumer's handle comes only after the first join).
    let membership: string | undefined;
    const ctx: SinkContext = { topology: topology.name, group: groupId, replay: opts.replayed, kafka, registry, log, durableChanged: () => void commitAllDurable(), member, membership: () => membership };
    for (const [name, factory] of Object.entries(topology.sinks)) sinks.set(name, await factory(ctx));

    // Name in /ready, what start-up waits for, the check.
    const dependencies: [string, string, () => Promise<unknown>][] = [
      ['kafka', `Kafka at ${cfg.KAFKA_BROKERS.join(',')}`, () => kafka.ping()],
      ['schema-registry', `the schema registry at ${registry.url}`, () => registry.versions(serde.subject)],
      ...[...sinks].map(([name, s]): [string, string, () => Promise<unknown>] => [`sink:${name}`, `sink ${name}`, () => s.check()]),
    ];
    const checks = async (): Promise<Record<string, boolean | string>> => {
      const result: Record<string, boolean | string> = {};
      await Promise.all(dependencies.map(async ([name, , check]) => {
        try {
          await withTimeout(check(), 5000, name);
          result[name] = true;
        } catch (err) {
          result[name] = (err as Error).message;
        }
      }));
      return result;
    };
    for (const [name, what, check] of dependencies) {
      // The registry client waits for its first answer itself (a wait around it would cut that short).
      await (name === 'schema-registry' ? check() : untilReady(what, check, startup)).catch((err: unknown) => {
        if (err instanceof ConfigError) throw err;
        const why = err instanceof NotReadyError ? err.message : `${name}: ${(err as Error).message}`;
        throw new SluiceError(`cannot start ${topology.name}: ${why}`, { cause: err });
      });
    }

    const partitions = cfg.SLUICE_PARTITIONS;
    const topics = [topology.source.topic, DLQ_TOPIC, ...[...sinks.values()].flatMap((s) => s.topics())];
    await kafka.ensureTopics([...new Set(topics)].map((topic) => ({ topic, partitions })));
    tasks = new PartitionTasks({
      topology, kafka, sinks, metrics, log, namespace, replayed: opts.replayed, commitIntervalMs: cfg.SLUICE_COMMIT_INTERVAL_MS,
      seek: (partition, offset) => void consumer?.seek(partition, offset).catch((err: unknown) => log.warn({ err, partition }, 'seek failed')),
      member,
    });
    if (tasks.stores.length > 0) {
      // Changelogs are co-partitioned with the source: partition p of the source restores from partition p.
      const sourcePartitions = await kafka.partitionCount(topology.source.topic);
      const changelogs = tasks.stores.map((store) => changelogTopic(namespace, store));
      await kafka.ensureTopics(changelogs.map((topic) => ({ topic, partitions: sourcePartitions, config: { 'cleanup.policy': 'compact' } })));
      for (const topic of changelogs) {
        const n = await kafka.partitionCount(topic);
        if (n !== sourcePartitions) throw new SluiceError(`cannot start ${topology.name}: changelog ${topic} has ${n} partitions, its source ${topology.source.topic} has ${sourcePartitions}`);
      }
    }
    await serde.init().catch((err: unknown) => {
      // The source subject must exist so that its reader schema is known to the registry.
      throw new SluiceError(`cannot start ${topology.name}: ${(err as Error).message}`);
    });

    server = await startOpsServer({ port: cfg.SLUICE_OPS_PORT, metrics: metrics.registry, ready: checks });
    const address = server.address();
    const opsPort = typeof address === 'object' && address ? address.port : cfg.SLUICE_OPS_PORT;

    // What the sinks that keep their own offsets stored, per partition and sink. Set synchronously on
    // assignment and awaited by every batch: kafkajs fetches from the committed offset before a seek
    // lands, and what came from records below a sink's offset must not be written to it twice.
    const running = tasks;
    let held: readonly number[] = [];
    const resumeAt = new Map<number, Promise<StoredOffsets>>();
    const storedOffsets = async (partition: number) => {
      const stored = new Map<string, bigint>();
      for (const [name, sink] of sinks) {
        const o = await sink.resumeOffset?.({ topic: topology.source.topic, partition });
        if (o !== undefined) stored.set(name, BigInt(o));
      }
      return stored;
    };
    // Only when every sink keeps its offsets and no state store depends on the records is the partition
    // itself moved to the smallest of them; else it resumes from the Kafka commit, and each sink is
    // spared only what it already holds (the other sinks and the stores still need those records).
    const skipAll = (stored: StoredOffsets): bigint | undefined =>
      stored.size === sinks.size && running.stores.length === 0 ? [...stored.values()].reduce((a, b) => (a < b ? a : b)) : undefined;
    const processBatch = makeBatchProcessor({ topology, serde, tasks: running, sinks, metrics, resumeAt, skipAll });
    let ticking = false;
    if (opts.wallClock !== false) ticker = setInterval(() => {
      if (ticking) return;
      ticking = true;
      running.tick(Date.now()).catch((err: unknown) => {
        if (err instanceof SluiceError && !err.retriable) fail(err);
        else log.warn({ err }, 'wall-clock tick failed; trying again at the next one');
      }).then(commitAllDurable).finally(() => (ticking = false));
    }, cfg.SLUICE_TICK_MS);

    if (opts.startOffsets) {
      const start = opts.startOffsets;
      await untilReady(`the coordinator of consumer group ${groupId}`, () => kafka.setGroupOffsets(groupId, topology.source.topic, start), startup);
    }
    consumer = await kafka.consume({
      groupId,
      topic: topology.source.topic,
      concurrency: cfg.SLUICE_CONCURRENCY,
      sessionTimeout: cfg.SLUICE_SESSION_TIMEOUT_MS,
      onBatch: async (batch, commit) => {
        try {
          if (!bounds) return await processBatch(batch, commit);
          const clipped = bounds.clip(batch);
          if (clipped.records.length > 0) await processBatch(clipped, commit);
          const next = (BigInt(batch.records.at(-1)!.offset) + 1n).toString();
          bounds.reached(batch.partition, next);
          opts.onProgress?.(batch.partition, next);
        } catch (err) {
          // A bug or a refusal that retrying cannot fix stops the process; the rest is retried by the client.
          if (err instanceof SluiceError && !err.retriable) fail(err);
          throw err;
        }
      },
      onAssign: async (assigned, rejoined, memberId) => {
        membership = memberId;
        running.assign(assigned, rejoined);
        // What buffering sinks hold of a partition goes with its task (the next owner reads it again).
        for (const p of held) {
          if (rejoined || !assigned.includes(p)) for (const s of sinks.values()) s.release?.({ topic: topology.source.topic, partition: p });
        }
        held = assigned;
        for (const p of assigned) resumeAt.set(p, storedOffsets(p));
        if (rejoined) log.warn({ partitions: assigned }, 'rejoined the group after losing its membership (paused past the session timeout?): every partition starts again from what is durable');
        log.info({ partitions: assigned }, 'partitions assigned');
        try {
          // After a lost membership: from what the group committed (the new owner's progress), which
          // kafkajs fetches anyway; the seek says so explicitly and commits it under the new member id.
          const committed = rejoined ? await kafka.groupOffsets(groupId, topology.source.topic) : new Map<number, string>();
          for (const p of assigned) {
            const offset = skipAll(await resumeAt.get(p)!)?.toString() ?? committed.get(p);
            if (offset !== undefined) await (await started).seek(p, offset);
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
      finished: bounds?.finished ?? new Promise<void>(() => undefined),
      stop: () => withTimeout(closeAll(), cfg.SLUICE_SHUTDOWN_TIMEOUT_MS, 'shutdown'),
    };
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
}

/** The lowest offset that buffering sinks report durable for `source`, capped at `upTo`. */
function lowestDurable(sinks: Iterable<Sink>, source: SourcePartition, upTo?: string): string | undefined {
  let low = upTo === undefined ? undefined : BigInt(upTo);
  for (const s of sinks) {
    const d = s.durable?.(source);
    if (d !== undefined && (low === undefined || BigInt(d) < low)) low = BigInt(d);
  }
  return low?.toString();
}

interface BatchDeps<V> {
  topology: Topology<V>;
  serde: AvroSerde<V>;
  tasks: PartitionTasks<V>;
  sinks: Map<string, Sink>;
  metrics: ReturnType<typeof createMetrics>;
  resumeAt: Map<number, Promise<StoredOffsets>>;
  skipAll: (stored: StoredOffsets) => bigint | undefined;
}

/**
 * decode → pipeline → every sink durable, dead letters and changelogs written → commit. A failure
 * of a dependency throws before the commit, so the client fetches the batch again.
 */
function makeBatchProcessor<V>({ topology, serde, tasks, sinks, metrics, resumeAt, skipAll }: BatchDeps<V>) {
  return async (batch: RawBatch, commit: (offset?: string) => Promise<void>) => {
    const { topic, partition } = batch;
    const stored = (await resumeAt.get(partition)) ?? new Map<string, bigint>();
    const from = skipAll(stored);
    // A partition kept through a rebalance is fetched again from its committed offset.
    const done = tasks.processedBefore(partition);
    const records = from === undefined && done === undefined ? batch.records
      : batch.records.filter((r) => (from === undefined || BigInt(r.offset) >= from) && (done === undefined || BigInt(r.offset) >= done));
    if (records.length === 0) {
      if (from !== undefined) return commit(); // durable already, in the sinks that keep offsets
      const committable = tasks.committable(partition);
      return committable === undefined ? undefined : commit(lowestDurable(sinks.values(), { topic, partition }, committable));
    }
    const dead: OutgoingRecord[] = [];

    await serde.prepare(records.map((r) => r.value));
    const inputs: InRecord<V>[] = [];
    for (const r of records) {
      try {
        const value = serde.decode(r.value);
        inputs.push({ topic, partition, offset: r.offset, key: r.key?.toString() ?? null, value, timestamp: r.timestamp, eventTime: r.timestamp, headers: r.headers });
      } catch (err) {
        if (!(err instanceof SerdeError)) throw err;
        dead.push(deadLetter(r, { topology: topology.name, topic, partition, offset: r.offset }, err.reason, err));
        metrics.deadLetters.inc({ reason: err.reason });
      }
    }
    const nextOffset = (BigInt(batch.records.at(-1)!.offset) + 1n).toString();
    const committable = await tasks.process(partition, inputs, records, dead, records[0]!.offset, nextOffset, stored, done);

    faultPoint('runtime.before-commit');
    if (committable !== undefined) {
      const endTimer = metrics.commitSeconds.startTimer();
      await commit(lowestDurable(sinks.values(), { topic, partition }, committable));
      endTimer();
    }
    metrics.recordsIn.inc({ partition: String(partition) }, batch.records.length);
    metrics.batchSize.observe(batch.records.length);
    metrics.lag.set({ partition: String(partition) }, Number(BigInt(batch.highWatermark) - BigInt(nextOffset)));
  };
}
