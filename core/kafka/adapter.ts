import { Kafka, logLevel, type Consumer, type ConsumerRunConfig, type Message, type Admin, type IHeaders, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaLogCreator } from '../log.ts';
import { SluiceError } from '../errors.ts';
import { STARTUP_TIMEOUT_MS, untilReady, type Startup } from '../retry.ts';
import { javaCompatiblePartitioner } from './partitioner.ts';
import { createSender } from './sender.ts';
import { openTransactionalWriter } from './transactional.ts';

/**
 * The thin seam between Sluice and its Kafka client (kafkajs today). The runtime and the sinks use
 * only this interface, so the client can be swapped on measured evidence.
 */
export interface KafkaAdapter {
  /** Creates the missing topics, then waits until every partition of every topic has a leader. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** The number of partitions of an existing topic. */
  partitionCount(topic: string): Promise<number>;
  /** Reads `partitions` of `topic` from the beginning up to their end offsets at the time of the call. */
  readToEnd(topic: string, partitions: readonly number[], onBatch: (partition: number, records: RawRecord[]) => void): Promise<void>;
  /** Reads the last `count` records (or fewer) of every partition of `topic`, up to the end offsets at the time of the call. */
  readTail(topic: string, count: number, onBatch: (partition: number, records: RawRecord[]) => void): Promise<void>;
  /** Per partition: the first offset still in the log (`low`) and the next offset to be written (`high`). */
  watermarks(topic: string): Promise<Watermarks[]>;
  /** Per partition: the first offset whose record timestamp is at or after `time` (ms); `high` when there is none. */
  offsetsForTime(topic: string, time: number): Promise<Map<number, string>>;
  /** The record timestamp (ms) of the first record still in the log of each of `partitions` that is not empty. */
  firstTimestamps(topic: string, partitions: readonly number[]): Promise<Map<number, number>>;
  /** The members of a consumer group (none when it is empty or does not exist). */
  groupMembers(groupId: string): Promise<GroupMember[]>;
  /** A group's committed offsets on `topic` (partitions without one are left out). */
  groupOffsets(groupId: string, topic: string): Promise<Map<number, string>>;
  /** Sets a group's committed offsets; Kafka refuses it while the group has members. */
  setGroupOffsets(groupId: string, topic: string, offsets: ReadonlyMap<number, string>): Promise<void>;
  /** Deletes consumer groups and topics (e.g. a replay's); missing ones are ignored. */
  deleteGroupAndTopics(groupId: string, topics: readonly string[]): Promise<void>;
  /** Sends all records in as few requests as the client allows; resolves when every replica has them (acks=all). */
  send(batches: readonly OutgoingBatch[]): Promise<void>;
  /**
   * The single writer for `transactionalId` (see transactional.ts): opening it fences the earlier
   * ones. Its `send` writes all records in one transaction.
   */
  transactional(transactionalId: string): Promise<TransactionalSender>;
  consume(opts: ConsumeOptions): Promise<ConsumerHandle>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Topic configs, e.g. `cleanup.policy: compact`. */
  config?: Record<string, string>;
}

export interface Watermarks {
  partition: number;
  low: string;
  high: string;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
}

export interface OutgoingRecord {
  key: string | Buffer | null;
  /** Explicit partition; default: by key, with the Java client's murmur2 partitioner. */
  partition?: number;
  value: Buffer | null;
  headers?: Readonly<Record<string, string>>;
}
export interface OutgoingBatch {
  topic: string;
  messages: OutgoingRecord[];
}

export interface RawRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Record<string, string>;
}
export interface RawBatch {
  topic: string;
  partition: number;
  records: RawRecord[];
  highWatermark: string;
}

export interface TransactionalSender {
  /** Sends all records in one transaction; throws (retriable) once fenced or failed, for good. */
  send(batches: readonly OutgoingBatch[]): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumeOptions {
  groupId: string;
  topic: string;
  /** Partitions processed at the same time; each partition's records stay in offset order. */
  concurrency: number;
  /** How long a member that stopped heartbeating keeps its partitions, ms. */
  sessionTimeout: number;
  /**
   * Handles a batch; call `commit` once its outputs are durable, with the offset the partition
   * resumes from (default: just after the batch). Throwing makes the client retry the batch.
   */
  onBatch(batch: RawBatch, commit: (offset?: string) => Promise<void>): Promise<void>;
  /**
   * The partitions of `topic` this member owns after a rebalance. `rejoined`: the member lost its
   * membership since the last assignment (paused past the session timeout): what it held may have
   * moved on at another member, so nothing it kept about any partition can be trusted. kafkajs
   * fetches every partition again from its committed offset. `memberId`: its id in the group from now on.
   */
  onAssign(partitions: number[], rejoined: boolean, memberId: string): Promise<void> | void;
  /** The consumer stopped for good (its retries are exhausted). */
  onCrash(error: Error): void;
}

export interface ConsumerHandle {
  /**
   * Where `partition` resumes; used when a sink keeps its own offsets. Also commits it, so that the
   * group's committed offsets (and lag tools) agree with what the sink has stored.
   */
  seek(partition: number, offset: string): Promise<void>;
  /** Commits `offset` (where `partition` resumes) outside a batch, e.g. after a sink's timed flush. */
  commit(partition: number, offset: string): Promise<void>;
  /**
   * Resolves while this process is a member of the group; throws (retriable) when it may not be:
   * with no heartbeat answered for half the session timeout (a pause: GC, a stalled VM, SIGSTOP),
   * it asks the coordinator first. Called before every write, so that a member whose partitions
   * moved on while it was paused writes nothing over what the new owner wrote. `confirm`: ask the
   * coordinator even after a recent heartbeat (kafkajs still sends at most one per heartbeat interval).
   */
  member(opts?: { confirm?: boolean }): Promise<void>;
  /** Stops fetching, lets the batch in progress finish, leaves the group. */
  stop(): Promise<void>;
}

/** A batch whose handler waits longer than this (a sink retrying an outage) keeps the group membership alive. */
const heartbeatEveryMs = 3000;

/** Stays under the broker's default message.max.bytes (1 MiB) with room for record overhead. */
const maxRequestBytes = 900 * 1024;

function sizeOf(m: OutgoingRecord): number {
  let size = 32 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  // A loop rather than Object.entries: this runs for every record written.
  for (const k in m.headers) size += k.length + m.headers[k]!.length + 2;
  return size;
}

/** Splits batches into requests of at most `limit` estimated bytes, keeping the order of records. */
export function chunkBySize(batches: readonly OutgoingBatch[], limit: number): { topic: string; messages: Message[] }[][] {
  const requests: { topic: string; messages: Message[] }[][] = [];
  let current: { topic: string; messages: Message[] }[] = [];
  let bytes = 0;
  for (const b of batches) {
    for (const m of b.messages) {
      const size = sizeOf(m);
      if (bytes + size > limit && bytes > 0) {
        requests.push(current);
        current = [];
        bytes = 0;
      }
      let last = current.at(-1);
      if (last?.topic !== b.topic) current.push((last = { topic: b.topic, messages: [] }));
      last.messages.push(m as Message);
      bytes += size;
    }
  }
  if (bytes > 0) requests.push(current);
  return requests;
}

function headersOf(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

const toRaw = (m: KafkaMessage): RawRecord => ({ offset: m.offset, key: m.key ?? null, value: m.value ?? null, timestamp: Number(m.timestamp), headers: headersOf(m.headers) });

/**
 * Reads `partitions` of `topic` from their first retained offset; `onBatch` returns true once it has
 * read enough of a partition. kafkajs cannot assign partitions by hand: a throw-away group reads the
 * topic, pauses the rest, and is deleted afterwards.
 */
let readers = 0;

async function readFromStart(kafka: Kafka, admin: Admin, topic: string, partitions: readonly number[],
  onBatch: (partition: number, messages: KafkaMessage[], lastOffset: string) => boolean, from?: ReadonlyMap<number, string>): Promise<void> {
  const pending = new Set(partitions);
  if (pending.size === 0) return;
  // Its own group for every read: two readers in one group would share the partitions, and each wait for the other's.
  const groupId = `sluice-reader-${topic}-${process.pid}-${Date.now()}-${++readers}`;
  // Where the throw-away group starts, when not at the beginning: committed before it joins.
  if (from) await admin.setOffsets({ groupId, topic, partitions: [...from].map(([partition, offset]) => ({ partition, offset })) });
  const reader = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 4 << 20, maxBytes: 16 << 20 });
  await reader.connect();
  try {
    await reader.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const take = (partition: number, messages: KafkaMessage[], lastOffset: string) => {
        if (!pending.has(partition)) return reader.pause([{ topic, partitions: [partition] }]);
        let done: boolean;
        try {
          done = onBatch(partition, messages, lastOffset);
        } catch (err) {
          reader.pause([{ topic }]);
          return reject(err);
        }
        if (done) {
          pending.delete(partition);
          reader.pause([{ topic, partitions: [partition] }]);
          if (pending.size === 0) resolve();
        }
      };
      reader.on(reader.events.CRASH, (e) => reject(e.payload.error));
      // A batch of transaction markers (or aborted records) only never reaches eachBatch: a changelog
      // ends with a commit marker, and the read would wait for it for ever.
      reader.on(reader.events.END_BATCH_PROCESS, (e) => {
        if (e.payload.batchSize === 0) take(e.payload.partition, [], e.payload.lastOffset);
      });
      void reader.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => take(batch.partition, batch.messages, batch.lastOffset()),
      }).catch(reject);
    });
  } finally {
    await reader.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

/**
 * kafkajs's runner rejoins the group on an error whose `type` says the membership is gone, but its
 * commit wraps such an error in one without the type, and the consumer crashed instead (after Kafka
 * had been paused past the session timeout: "The coordinator is not aware of this member").
 */
const MEMBERSHIP_LOST = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP']);
export async function commitOffsets(consumer: Pick<Consumer, 'commitOffsets'>, offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
  await consumer.commitOffsets(offsets).catch((err: Error & { type?: string; cause?: { type?: string } }) => {
    const type = err.cause?.type;
    if (err.type === undefined && type !== undefined && MEMBERSHIP_LOST.has(type)) Object.assign(err, { type });
    throw err;
  });
}

/** Partitions of `names` without a leader, or topics without partitions yet; empty when all can be written and read. */
async function leaderless(admin: Admin, names: string[]): Promise<string[]> {
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  return topics.flatMap((t) => (t.partitions.length === 0 ? [t.name] : t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}/${p.partitionId}`)));
}

/**
 * Connects to Kafka. What is normal while Kafka starts or a topic is new (a refused connection, a
 * coordinator loading, no leader yet) is waited out, up to `startup.timeoutMs` per step, when
 * connecting, in `ensureTopics` and while `consume` joins its group (see core/retry.ts).
 */
export async function connectKafka(brokers: string[], clientId: string, log: Logger, startup: Startup = { timeoutMs: STARTUP_TIMEOUT_MS }): Promise<KafkaAdapter> {
  const kafka = new Kafka({ brokers, clientId, logCreator: kafkaLogCreator(log), logLevel: logLevel.WARN });
  const admin: Admin = kafka.admin();
  // The Java client's murmur2 partitioner: keys land where Kafka Streams and Connect put them.
  // Idempotent (Kafka's enable.idempotence): a produce request retried after a timeout or a broker
  // restart, that Kafka had written, is not written twice (the fault suite found 908 such copies of
  // readings, and dead letters twice, without it). kafkajs then keeps one request in flight per broker,
  // and one send at a time runs (see sender.ts).
  const sender = createSender({ newProducer: () => kafka.producer({ createPartitioner: javaCompatiblePartitioner, allowAutoTopicCreation: false, idempotent: true }), log });
  const ready = <T>(what: string, attempt: () => Promise<T>) => untilReady(what, attempt, { log, ...startup });
  // A client without kafkajs's own retries (they take seconds) and logs: each attempt fails fast and
  // says why, and the wait logs it once per attempt.
  const probe = new Kafka({ brokers, clientId, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await ready(`Kafka at ${brokers.join(',')}`, async () => {
      await probe.connect().finally(() => probe.disconnect().catch(() => undefined));
      await Promise.all([admin.connect(), sender.connect()]);
    });
  } catch (err) {
    await Promise.all([admin.disconnect(), sender.close()]).catch(() => undefined);
    throw err;
  }
  const consumers = new Set<Consumer>();
  /** Reads each partition of `ends` (from `from`, or its start) up to, not including, its end offset. */
  const readUpTo = (topic: string, ends: ReadonlyMap<number, bigint>, onBatch: (partition: number, records: RawRecord[]) => void, from?: ReadonlyMap<number, string>) =>
    readFromStart(kafka, admin, topic, [...ends.keys()], (partition, messages, lastOffset) => {
      const end = ends.get(partition)!;
      onBatch(partition, messages.filter((m) => BigInt(m.offset) < end).map(toRaw));
      return BigInt(lastOffset) + 1n >= end;
    }, from);

  return {
    async ensureTopics(topics) {
      const names = topics.map((t) => t.topic);
      await ready(`a leader for every partition of ${names.join(', ')}`, async () => {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.topic));
        // kafkajs's waitForLeaders waits out LEADER_NOT_AVAILABLE only; a topic just created can also be
        // UNKNOWN_TOPIC_OR_PARTITION for a moment (the quickstart failure). The check below waits for both.
        // (false: another process created them first.)
        if (missing.length > 0 && await admin.createTopics({
          topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })) })),
          waitForLeaders: false,
        })) log.info({ topics: missing.map((t) => t.topic) }, 'created topics');
        const without = await leaderless(admin, names);
        if (without.length > 0) throw new SluiceError(`no leader yet for ${without.join(', ')}`, { retriable: true });
        // On a broker just started, or a topic just created, metadata can name a leader that does not
        // answer as one yet (NOT_LEADER_FOR_PARTITION on the first offsets request): ask each once, on
        // the quiet client (kafkajs logs each such answer as an error, on a replay's stderr).
        await probe.connect();
        try {
          for (const name of names) await probe.fetchTopicOffsets(name);
        } finally {
          await probe.disconnect().catch(() => undefined);
        }
      });
    },
    async partitionCount(topic) {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0]!.partitions.length;
    },
    async readToEnd(topic, partitions, onBatch) {
      const ends = new Map<number, bigint>();
      for (const o of await admin.fetchTopicOffsets(topic)) {
        if (partitions.includes(o.partition) && BigInt(o.high) > BigInt(o.low)) ends.set(o.partition, BigInt(o.high));
      }
      await readUpTo(topic, ends, onBatch);
    },
    async readTail(topic, count, onBatch) {
      const from = new Map<number, string>();
      const ends = new Map<number, bigint>();
      for (const o of await admin.fetchTopicOffsets(topic)) {
        const [low, high] = [BigInt(o.low), BigInt(o.high)];
        if (high <= low) continue;
        ends.set(o.partition, high);
        from.set(o.partition, String(high - BigInt(count) > low ? high - BigInt(count) : low));
      }
      await readUpTo(topic, ends, onBatch, from);
    },
    async watermarks(topic) {
      return (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
    },
    async offsetsForTime(topic, time) {
      return new Map((await admin.fetchTopicOffsetsByTimestamp(topic, time)).map((o) => [o.partition, o.offset]));
    },
    async firstTimestamps(topic, partitions) {
      const nonEmpty = (await admin.fetchTopicOffsets(topic)).filter((o) => partitions.includes(o.partition) && BigInt(o.high) > BigInt(o.low));
      const first = new Map<number, number>();
      await readFromStart(kafka, admin, topic, nonEmpty.map((o) => o.partition), (partition, messages) => {
        if (messages[0]) first.set(partition, Number(messages[0].timestamp));
        return messages.length > 0;
      });
      return first;
    },
    async groupMembers(groupId) {
      const { groups } = await admin.describeGroups([groupId]);
      return (groups[0]?.members ?? []).map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost }));
    },
    async groupOffsets(groupId, topic) {
      const [row] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map((row?.partitions ?? []).filter((p) => BigInt(p.offset) >= 0n).map((p) => [p.partition, p.offset]));
    },
    async setGroupOffsets(groupId, topic, offsets) {
      await admin.setOffsets({ groupId, topic, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset })) });
    },
    async deleteGroupAndTopics(groupId, topics) {
      await admin.deleteGroups([groupId]).catch(() => undefined); // kafkajs throws for a group that never committed
      const existing = new Set(await admin.listTopics());
      const doomed = topics.filter((t) => existing.has(t));
      if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
    },
    // One request per chunk, in order: a request over the broker's message.max.bytes (1 MiB) is refused whole.
    send: (batches) => sender.send(chunkBySize(batches, maxRequestBytes)),
    async transactional(transactionalId) {
      const writer = await openTransactionalWriter(kafka, transactionalId);
      return { send: (batches) => writer.send(chunkBySize(batches, maxRequestBytes)), close: () => writer.close() };
    },
    async consume(opts) {
      const consumer = kafka.consumer({
        groupId: opts.groupId, allowAutoTopicCreation: false, sessionTimeout: opts.sessionTimeout, heartbeatInterval: Math.min(3000, opts.sessionTimeout / 3), maxBytesPerPartition: 512 << 10, maxBytes: 8 << 20,
        // How long a join waits for the members the coordinator knows (kafkajs: 60 s): after a Kafka
        // restart the stateful groups waited that long for members that never came back. A member
        // later than this is expelled and fenced (member()), and joins again.
        rebalanceTimeout: Math.max(20_000, 2 * opts.sessionTimeout),
      });
      consumers.add(consumer);
      // Membership: a new member id at a join means the coordinator had expelled this member; the
      // last answered heartbeat (or join) says how recently it was still a member.
      let memberId: string | undefined;
      let lastBeat = 0;
      let heartbeat: (() => Promise<void>) | undefined;
      const beatEveryMs = Math.min(3000, opts.sessionTimeout / 3);
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const rejoined = memberId !== undefined && e.payload.memberId !== memberId;
        memberId = e.payload.memberId;
        lastBeat = Date.now();
        void opts.onAssign(e.payload.memberAssignment[opts.topic] ?? [], rejoined, e.payload.memberId);
      });
      consumer.on(consumer.events.HEARTBEAT, () => {
        lastBeat = Date.now();
      });
      // kafkajs restarts the consumer by itself after errors it deems retriable; the others crash it.
      // Until it has joined, a crash is start-up's to judge (a coordinator still loading is normal).
      let joining = true;
      let crashedJoining: Error | undefined;
      // A crashed runner's member is gone: a batch of it still running (a send waiting for Kafka) must
      // not keep that member alive with heartbeats, nor be let write, until the consumer has joined
      // again. (Its heartbeats held a join after a Kafka restart for the whole rebalance timeout.)
      let runs = 0;
      consumer.on(consumer.events.CRASH, (e) => {
        runs++;
        heartbeat = undefined;
        lastBeat = 0;
        if (e.payload.restart) return;
        if (joining) crashedJoining = e.payload.error;
        else opts.onCrash(e.payload.error);
      });
      const runConfig: ConsumerRunConfig = {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.concurrency,
        eachBatch: async ({ batch, isRunning, isStale, heartbeat: beatNow, resolveOffset }) => {
          const run = runs;
          heartbeat = beatNow;
          if (!isRunning() || isStale() || batch.messages.length === 0) return;
          const records = batch.messages.map(toRaw);
          const next = (BigInt(batch.lastOffset()) + 1n).toString();
          const beat = setInterval(() => {
            if (run === runs) beatNow().catch(() => undefined);
          }, heartbeatEveryMs);
          try {
            await opts.onBatch({ topic: batch.topic, partition: batch.partition, records, highWatermark: batch.highWatermark }, async (offset = next) => {
              await commitOffsets(consumer, [{ topic: batch.topic, partition: batch.partition, offset }]);
            });
          } finally {
            clearInterval(beat);
          }
          // Without this kafkajs fetches the same records again: its position moves only on resolve.
          resolveOffset(batch.lastOffset());
          await beatNow();
        },
      };
      try {
        await ready(`consumer group ${opts.groupId} to be joined`, async () => {
          crashedJoining = undefined;
          await consumer.connect();
          await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
          await consumer.run(runConfig); // resolves once joined, or crashed
          if (crashedJoining) throw crashedJoining;
        });
      } catch (err) {
        consumers.delete(consumer);
        await consumer.disconnect().catch(() => undefined);
        throw err;
      } finally {
        joining = false;
      }
      return {
        async seek(partition, offset) {
          consumer.seek({ topic: opts.topic, partition, offset });
          await commitOffsets(consumer, [{ topic: opts.topic, partition, offset }]);
        },
        commit: (partition, offset) => commitOffsets(consumer, [{ topic: opts.topic, partition, offset }]),
        async member({ confirm = false } = {}) {
          const silentMs = Date.now() - lastBeat;
          if (!confirm && silentMs < opts.sessionTimeout / 2) return;
          if (!heartbeat) {
            if (lastBeat === 0) throw new SluiceError('not writing: the consumer stopped and is joining the group again', { retriable: true });
            return; // joined, no batch yet: kafkajs's own heartbeats (lastBeat) say it is a member
          }
          // kafkajs sends it: the last one is older than the heartbeat interval.
          const asked = Date.now();
          let rebalancing = false;
          await heartbeat().catch((err: Error & { type?: string }) => {
            // Answered only to a member of the current generation: it owns its partitions until it rejoins.
            if (err.type === 'REBALANCE_IN_PROGRESS') return void (rebalancing = true);
            const refused = new SluiceError(`not writing: no heartbeat for ${Math.round(silentMs / 1000)} s (paused past the session timeout?) and the group coordinator did not confirm the membership: ${err.message}`, { retriable: true, cause: err });
            // kafkajs's runner rejoins the group on an error of these types (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION…).
            throw Object.assign(refused, { type: err.type });
          });
          // kafkajs sends nothing while it rejoins (no member id) and resolves all the same.
          if (!rebalancing && lastBeat < asked && Date.now() - lastBeat > beatEveryMs) {
            throw new SluiceError(`not writing: no heartbeat for ${Math.round(silentMs / 1000)} s (paused past the session timeout?) and the client is rejoining the group`, { retriable: true });
          }
        },
        async stop() {
          await consumer.disconnect(); // kafkajs: stops fetching, waits for the running batch, leaves the group
          consumers.delete(consumer);
        },
      };
    },
    async ping() {
      await admin.describeCluster();
    },
    async close() {
      for (const c of consumers) await c.disconnect();
      await Promise.all([sender.close(), admin.disconnect()]);
    },
  };
}
