import type { Logger } from 'pino';
import type { Topology, InRecord, OutRecord } from '../topology.ts';
import type { Sink } from '../sink.ts';
import type { KafkaAdapter, OutgoingBatch, OutgoingRecord, RawRecord, TransactionalSender } from '../kafka/adapter.ts';
import type { DeadLetter } from '../state/context.ts';
import type { ChangelogRestore } from '../state/changelog.ts';
import { DLQ_TOPIC, changelogTopic, changelogWriterId } from '../naming.ts';
import { SluiceError } from '../errors.ts';
import { Task, type TaskOutput } from './task.ts';
import { deadLetter } from './dlq.ts';
import { faultPoint } from '../fault.ts';
import type { Metrics } from './metrics.ts';

export interface TaskDeps<V> {
  topology: Topology<V>;
  kafka: KafkaAdapter;
  sinks: Map<string, Sink>;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
  /** Prefix of changelog topics; default: the topology's name (a replay has its own). */
  namespace?: string;
  /** A replay's event-time range: windows it covers only in part are not emitted. */
  replayed?: { from: number; to: number };
  /**
   * How often (ms) the changelogs of a stateful task are written and its offsets committed, as Kafka
   * Streams' commit.interval.ms: changes to a key in between are written once. 0: after every batch.
   */
  commitIntervalMs?: number;
  /** Where the partition is fetched from next (after a failure, the last changelog position). */
  seek?: (partition: number, offset: string) => void;
  /** Resolves while this process is still a member of its group (see ConsumerHandle.member); checked before every write. */
  member?: () => Promise<void>;
}

/** The names of the state stores a pipeline uses, found by building it once. */
export function storesOf<V>(topology: Topology<V>): string[] {
  const probe = new Task(topology.pipeline, { topology: topology.name, partition: -1, time: topology.source.time });
  probe.close();
  return probe.stores();
}

/**
 * The tasks of the partitions this process owns. Work on one partition (a batch, a wall-clock tick)
 * runs one at a time. A task's stores are restored from their changelogs before its first record.
 * Everything a step produced is durable before its offsets are committed: sink outputs and dead
 * letters after each batch; changelog records (whose position says which offsets they include) at
 * most every commit interval, and offsets are committed only up to that position.
 */
/** Per sink that keeps its own offsets: the next offset it stored for the partition. */
export type StoredOffsets = ReadonlyMap<string, bigint>;

export class PartitionTasks<V> {
  private readonly tasks = new Map<number, Promise<Task<V>>>();
  /** The task each partition has now: a restore of one replaced meanwhile (dropped, rebuilt) sets nothing. */
  private readonly current = new Map<number, Task<V>>();
  /** Where each partition resumes: the next offset after what its task has processed. */
  private readonly positions = new Map<number, string>();
  private readonly locks = new Map<number, Promise<unknown>>();
  /** Per stateful partition: the position of its last changelog write (or restore), and when. */
  private readonly flushed = new Map<number, { offset: string; at: number }>();
  /** Per stateful task: the one writer of its changelogs, opened (fencing any other) before its restore. */
  private readonly writers = new Map<Task<V>, TransactionalSender>();
  /** The state stores of the pipeline. */
  readonly stores: string[];

  private readonly deps: TaskDeps<V>;

  constructor(deps: TaskDeps<V>) {
    this.deps = deps;
    this.stores = storesOf(deps.topology);
  }

  /**
   * After a rebalance: drops the tasks of revoked partitions, or of every partition when the member
   * had lost its membership (`rejoined`: another member may have gone on with them meanwhile), and
   * starts restoring the new ones. A kept task goes on: see processedBefore.
   */
  assign(partitions: readonly number[], rejoined = false): void {
    for (const p of [...this.tasks.keys()]) if (rejoined || !partitions.includes(p)) this.drop(p);
    const fresh = partitions.filter((p) => !this.tasks.has(p));
    if (fresh.length > 0) this.start(fresh);
  }

  /**
   * Records below this offset are in the partition's task already (its state, its durable outputs):
   * kafkajs fetches them again after a rebalance that kept the partition (from the committed offset)
   * and after a batch whose commit failed (from where it last resolved), and the task must not take
   * them twice. The fault suite found whole batches counted twice in the hourly statistics so, after
   * Kafka was killed or paused.
   */
  processedBefore(partition: number): bigint | undefined {
    const position = this.positions.get(partition);
    return position === undefined ? undefined : BigInt(position);
  }

  /**
   * Runs a batch of decoded records (`raw`: the batch as fetched, for dead letters; `first`: its
   * first offset; `seen`: processedBefore when the batch was filtered). Returns the offset the
   * partition may commit, if any.
   */
  async process(partition: number, inputs: InRecord<V>[], raw: readonly RawRecord[], dead: OutgoingRecord[], first: string, nextOffset: string, stored?: StoredOffsets, seen?: bigint): Promise<string | undefined> {
    return this.exclusive(partition, async () => {
      const assigned = this.tasks.get(partition);
      // A batch fetched before a rebalance took the partition away: the new owner processes it.
      if (!assigned) throw new SluiceError(`partition ${partition} is not assigned to this member (any more); its batch is left to the owner`, { retriable: true });
      const task = await assigned.catch((err: unknown) => {
        this.rebuild(partition); // the next try restores it again
        throw new SluiceError(`partition ${partition}: its state could not be restored: ${(err as Error).message}`, { retriable: true, cause: err });
      });
      // The position moves back only when the task is started again: rebuilt from its changelog (a
      // failed changelog write) or the partition assigned anew. A batch that waited for the partition
      // meanwhile was fetched past that position; taken so, the records in between would be missing
      // from the state for good.
      const position = this.positions.get(partition);
      if (seen !== undefined && (position === undefined || BigInt(position) < seen)) {
        if (position !== undefined) this.deps.seek?.(partition, position);
        throw new SluiceError(`partition ${partition}: its task was started again while this batch waited; read again from offset ${position ?? 'the committed one'}`, { retriable: true });
      }
      if (position !== undefined && BigInt(nextOffset) <= BigInt(position)) return this.committable(partition);
      const fresh = position === undefined ? inputs : inputs.filter((r) => BigInt(r.offset) >= BigInt(position));
      if (this.stores.length > 0 && !this.flushed.has(partition)) this.flushed.set(partition, { offset: first, at: this.now() });
      try {
        await this.deliver(task, partition, task.process(fresh), dead, nextOffset, raw, stored);
      } catch (err) {
        // The task's state holds what its changelog does not: a task restored from the changelog
        // takes over, and the partition is fetched again from the changelog's position.
        if (this.stores.length > 0) this.rebuild(partition, this.flushed.get(partition)!.offset);
        throw err;
      }
      this.positions.set(partition, nextOffset);
      return this.committable(partition);
    });
  }

  /**
   * Up to where `partition` may be committed, as far as its task goes: what it processed, or for a
   * stateful one the position of its last changelog write (a timed write moves it between batches).
   */
  committable(partition: number): string | undefined {
    return this.stores.length > 0 ? this.flushed.get(partition)?.offset : this.positions.get(partition);
  }

  /** The partitions whose task has a position (processed or restored). */
  active(): number[] {
    return [...this.positions.keys()];
  }

  /** Lets the wall-clock timers of every task fire (idle timeouts). */
  async tick(now: number): Promise<void> {
    await Promise.all([...this.positions].map(([partition]) => this.exclusive(partition, async () => {
      const position = this.positions.get(partition);
      const task = this.tasks.get(partition);
      if (position === undefined || !task) return; // revoked meanwhile
      const t = await task;
      const before = this.flushed.get(partition)?.offset;
      try {
        await this.deliver(t, partition, t.tick(now), [], position, undefined);
      } catch (err) {
        this.rebuild(partition, before);
        throw err;
      }
    })));
  }

  /**
   * Replaces a task whose state went ahead of its changelog by one restored from it; the partition
   * is fetched again from `from`, the changelog's last position (where a task with nothing in its
   * changelog yet resumes).
   */
  private rebuild(partition: number, from?: string): void {
    this.drop(partition);
    this.start([partition], from);
    if (from !== undefined) this.deps.seek?.(partition, from);
  }

  private drop(partition: number): void {
    void this.tasks.get(partition)?.then((t) => this.closeTask(t), () => undefined);
    this.tasks.delete(partition);
    this.current.delete(partition);
    this.positions.delete(partition);
    this.flushed.delete(partition);
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  close(): void {
    for (const t of this.tasks.values()) void t.then((task) => this.closeTask(task), () => undefined);
    this.tasks.clear();
    this.current.clear();
  }

  private closeTask(task: Task<V>): void {
    task.close();
    void this.writers.get(task)?.close().catch(() => undefined);
    this.writers.delete(task);
  }

  private start(partitions: number[], from?: string): Map<number, Promise<Task<V>>> {
    const { topology, kafka, metrics, log } = this.deps;
    const created = new Map(partitions.map((p) => [p, new Task(topology.pipeline, { topology: topology.name, partition: p, time: topology.source.time, now: this.deps.now, replayed: this.deps.replayed, onPipelineError: topology.onPipelineError })]));
    const namespace = this.deps.namespace ?? topology.name;
    for (const [p, task] of created) this.current.set(p, task);
    const restoring = (async () => {
      // Fenced before it is read: whatever an earlier writer (a paused member, a send still being
      // retried) still sends is refused, and every transaction it began is in the changelog, or aborted.
      if (this.stores.length > 0) {
        await Promise.all([...created].map(async ([p, task]) => this.writers.set(task, await kafka.transactional(changelogWriterId(namespace, p)))));
      }
      const restores = new Map([...created.keys()].map((p) => [p, [] as ChangelogRestore[]]));
      for (const store of this.stores) {
        const began = process.hrtime.bigint();
        const byPartition = new Map([...created].map(([p, task]) => [p, task.restoring(store)]));
        await kafka.readToEnd(changelogTopic(namespace, store), partitions, (p, records) => byPartition.get(p)?.apply(records));
        metrics.restoreSeconds.set({ store }, Number(process.hrtime.bigint() - began) / 1e9);
        let records = 0;
        for (const [p, r] of byPartition) {
          restores.get(p)!.push(r);
          records += r.records;
        }
        metrics.restoredRecords.inc({ store }, records);
        log.info({ store, partitions, records }, 'state restored');
      }
      for (const [p, task] of created) {
        const offset = task.restored(restores.get(p)!) ?? from;
        // Else a slow restore, overtaken by a rejoin's, would set an older position under the task
        // that went on meanwhile: records it had taken, fetched again, would be counted twice.
        if (offset === undefined || this.current.get(p) !== task) continue;
        this.positions.set(p, offset);
        this.flushed.set(p, { offset, at: this.now() });
      }
    })();
    restoring.catch(() => {
      for (const task of created.values()) this.closeTask(task);
    });
    const out = new Map<number, Promise<Task<V>>>();
    for (const [p, task] of created) {
      const ready = restoring.then(() => task);
      ready.catch(() => undefined);
      this.tasks.set(p, ready);
      out.set(p, ready);
    }
    return out;
  }

  private async exclusive<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(partition) ?? Promise.resolve();
    const run = before.then(work, work);
    this.locks.set(partition, run.catch(() => undefined));
    return run;
  }

  private async deliver(task: Task<V>, partition: number, result: TaskOutput, dead: OutgoingRecord[], nextOffset: string, raw: readonly RawRecord[] | undefined, stored?: StoredOffsets): Promise<void> {
    const fromBatch = raw !== undefined;
    const { topology, kafka, sinks, metrics } = this.deps;
    const origin = { topology: topology.name, topic: topology.source.topic, partition };
    const count = (reason: string) => metrics.deadLetters.inc({ reason });
    if (result.deadLetters.length > 0) {
      const byOffset = new Map((raw ?? []).map((r) => [r.offset, r]));
      for (const d of result.deadLetters) {
        dead.push(deadLetter(byOffset.get(d.record.offset) ?? asRaw(d), { ...origin, offset: d.record.offset }, d.reason, d.error));
        count(d.reason);
      }
    }

    // Buffering sinks hear of every batch, so that they know how far the partition was read.
    const bySink = new Map<string, OutRecord[]>(fromBatch ? [...sinks].filter(([, s]) => s.durable).map(([name]) => [name, []]) : []);
    for (const [i, out] of result.outputs.entries()) {
      // A sink that keeps its own offsets already holds what came from records below its offset.
      const below = stored?.get(out.to);
      const source = result.origins[i];
      if (below !== undefined && source !== undefined && BigInt(source) < below) continue;
      if (!sinks.has(out.to)) throw new SluiceError(`pipeline of ${topology.name} emitted to "${out.to}", which is not one of its sinks: ${[...sinks.keys()].join(', ')}`);
      const list = bySink.get(out.to);
      if (list) list.push(out);
      else bySink.set(out.to, [out]);
    }
    // A member paused past the session timeout must not write over what the partition's new owner
    // wrote: it checks its membership, and that its task was not dropped meanwhile, before each write.
    const current = this.tasks.get(partition);
    const stillOwner = async () => {
      await this.deps.member?.();
      if (this.tasks.get(partition) !== current) throw new SluiceError(`partition ${partition} was reassigned while its batch was processed; not writing`, { retriable: true });
    };
    await stillOwner();
    let deadLetters = dead.length;
    const sendDeadLetters = async () => {
      const sending = dead.slice();
      if (sending.length === 0) return;
      await kafka.send([{ topic: DLQ_TOPIC, messages: sending }]);
      dead.splice(0, sending.length); // kept until sent: a failed send leaves them for the retry
    };
    await Promise.all([...bySink].map(async ([name, records]) => {
      await sinks.get(name)!.write(records, { topic: topology.source.topic, partition, nextOffset }, (rec, reason, error) => {
        const value = Buffer.from(JSON.stringify(rec.value) ?? 'null');
        dead.push(deadLetter({ key: rec.key === null ? null : Buffer.from(rec.key), value, headers: { ...rec.headers, 'sluice.sink': name } }, origin, reason, error));
        deadLetters++;
        count(reason);
      }, sendDeadLetters);
      metrics.recordsOut.inc({ sink: name }, records.length);
    }));

    const changelogs: OutgoingBatch[] = [];
    const last = this.flushed.get(partition);
    // An idle partition writes nothing: neither its offset nor its state moved.
    const flush = last !== undefined && this.now() - last.at >= (this.deps.commitIntervalMs ?? 0) && (last.offset !== nextOffset || task.hasChanges());
    if (flush) {
      for (const { store, records } of task.changelog(nextOffset)) {
        changelogs.push({ topic: changelogTopic(this.deps.namespace ?? topology.name, store), messages: records });
        metrics.storeEntries.set({ store, partition: String(partition) }, task.context.store(store).size);
      }
    }
    if (dead.length > 0 || changelogs.length > 0) {
      faultPoint('task.before-send');
      await stillOwner();
      faultPoint('task.sending'); // for tests of a pause between the check and the write
      if (dead.length > 0) await kafka.send([{ topic: DLQ_TOPIC, messages: dead }]);
      // One transaction, of the task's own writer: a changelog holds whole writes of its current owner only.
      if (changelogs.length > 0) await this.writers.get(task)!.send(changelogs);
    }
    if (flush) {
      this.flushed.set(partition, { offset: nextOffset, at: this.now() });
      faultPoint('task.flushed');
    }
    if (deadLetters > 0) this.deps.log.warn({ partition, deadLetters }, 'records sent to the dead-letter topic');
  }
}

/** A dead letter raised on a record that is not in the fetched batch: its decoded value as JSON. */
function asRaw(d: DeadLetter): Pick<RawRecord, 'key' | 'value' | 'headers'> {
  return { key: d.record.key === null ? null : Buffer.from(d.record.key), value: Buffer.from(JSON.stringify(d.record.value) ?? 'null'), headers: { ...d.record.headers } };
}
