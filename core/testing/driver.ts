import type { Topology, InRecord, OutRecord } from '../topology.ts';
import { Task, type TaskOutput } from '../runtime/task.ts';
import { storesOf } from '../runtime/tasks.ts';
import { changelogTopic } from '../naming.ts';
import { POSITION_KEY } from '../state/changelog.ts';
import { SluiceError } from '../errors.ts';

export interface TestRecord<V> {
  key: string | null;
  value: V;
  /** The Kafka record timestamp, ms; default: the driver's wall clock. (Event time comes from the value.) */
  timestamp?: number;
  /** Default: from the key, as a stable hash modulo the driver's partition count. */
  partition?: number;
  headers?: Record<string, string>;
}

export interface TestDeadLetter {
  partition: number;
  offset: string;
  reason: string;
  error: string;
  record: InRecord<unknown>;
}

/**
 * Runs a topology in memory, with a virtual wall clock and no broker: pipe input records, advance
 * the clock, read what each sink received, what went to the dead-letter topic and what the state
 * stores and their changelogs hold. Each `pipe` call is processed as one batch per partition,
 * through the same task code as `bin/run-topology`.
 * @example
 *   const driver = new TopologyTestDriver(topology, { wallClock: Date.UTC(2026, 0, 1, 12) });
 *   driver.pipe({ key: 'dev-1', value: reading });
 *   driver.advanceWallClock(hours(1));
 *   expect(driver.output('stats')).toEqual([...]);
 */
export class TopologyTestDriver<V> {
  private clock: number;
  private readonly partitions: number;
  private readonly topology: Topology<V>;
  private tasks = new Map<number, Task<V>>();
  private readonly offsets = new Map<number, bigint>();
  private readonly outputs = new Map<string, OutRecord[]>();
  private readonly dead: TestDeadLetter[] = [];
  /** Changelog topics as compaction leaves them: per partition the latest value per key, and the latest position. */
  private readonly changelogs = new Map<string, Map<number, { entries: Map<string, Buffer | null>; position?: Buffer }>>();

  private readonly replayed?: { from: number; to: number };

  /** `replayed`: run as a replay (`bin/replay`) of that event-time range would. */
  constructor(topology: Topology<V>, opts: { wallClock?: number; partitions?: number; replayed?: { from: number; to: number } } = {}) {
    this.topology = topology;
    this.replayed = opts.replayed;
    this.clock = opts.wallClock ?? Date.now();
    this.partitions = opts.partitions ?? 1;
    for (const sink of Object.keys(topology.sinks)) this.outputs.set(sink, []);
    for (const store of storesOf(topology)) this.changelogs.set(changelogTopic(topology.name, store), new Map());
  }

  get wallClock(): number {
    return this.clock;
  }

  /** Processes the records, one batch per partition, in the order given within each partition. */
  pipe(...records: TestRecord<V>[]): void {
    const byPartition = new Map<number, InRecord<V>[]>();
    for (const r of records) {
      const partition = r.partition ?? (r.key === null ? 0 : hash(r.key) % this.partitions);
      const offset = this.offsets.get(partition) ?? 0n;
      this.offsets.set(partition, offset + 1n);
      const timestamp = r.timestamp ?? this.clock;
      const input: InRecord<V> = { topic: this.topology.source.topic, partition, offset: offset.toString(), key: r.key, value: r.value, timestamp, eventTime: timestamp, headers: r.headers ?? {} };
      const list = byPartition.get(partition);
      if (list) list.push(input);
      else byPartition.set(partition, [input]);
    }
    for (const [partition, inputs] of byPartition) this.collect(partition, this.task(partition).process(inputs));
  }

  /** Moves the virtual wall clock forward and lets wall-clock timers (idle timeouts) fire. */
  advanceWallClock(ms: number): void {
    if (!(ms >= 0)) throw new SluiceError(`advanceWallClock: ms must be >= 0, got ${ms}`);
    this.clock += ms;
    for (const [partition, task] of this.tasks) this.collect(partition, task.tick(this.clock));
  }

  /** Everything sink `name` has received so far. */
  output(name: string): OutRecord[] {
    const out = this.outputs.get(name);
    if (!out) throw new SluiceError(`topology ${this.topology.name} has no sink "${name}"; its sinks: ${[...this.outputs.keys()].join(', ')}`);
    return [...out];
  }

  /** Records sent to the dead-letter topic so far. */
  deadLetters(): TestDeadLetter[] {
    return [...this.dead];
  }

  /** The current entries of a state store. */
  store<S = unknown>(name: string, partition = 0): Map<string, S> {
    return new Map(this.task(partition).context.store<S>(name).entries());
  }

  /**
   * A store's changelog topic as compaction leaves it: the latest record per partition and key
   * (value null = deleted), the position records included, in the order they were last written.
   */
  changelog(store: string): { partition: number; key: string; value: unknown }[] {
    if (!this.changelogs.has(changelogTopic(this.topology.name, store))) throw new SluiceError(`topology ${this.topology.name} has no store "${store}"`);
    return [...this.changelogs.get(changelogTopic(this.topology.name, store))!].flatMap(([partition]) =>
      this.compacted(store, partition).map((r) => ({ partition, key: r.key.toString(), value: r.value === null ? null : JSON.parse(r.value.toString()) })));
  }

  /** Simulates a restart: the tasks are rebuilt from their changelogs, as after a crash or a rebalance. */
  restart(): void {
    for (const t of this.tasks.values()) t.close();
    this.tasks = new Map();
    for (const partition of this.offsets.keys()) {
      const task = this.task(partition);
      const restores = task.stores().map((store) => {
        const r = task.restoring(store);
        r.apply(this.compacted(store, partition));
        return r;
      });
      task.restored(restores);
    }
  }

  private task(partition: number): Task<V> {
    let task = this.tasks.get(partition);
    if (!task) {
      task = new Task(this.topology.pipeline, { topology: this.topology.name, partition, time: this.topology.source.time, now: () => this.clock, replayed: this.replayed });
      this.tasks.set(partition, task);
    }
    return task;
  }

  private collect(partition: number, result: TaskOutput): void {
    for (const out of result.outputs) {
      const list = this.outputs.get(out.to);
      if (!list) throw new SluiceError(`pipeline of ${this.topology.name} emitted to "${out.to}", which is not one of its sinks: ${[...this.outputs.keys()].join(', ')}`);
      list.push(out);
    }
    for (const d of result.deadLetters) this.dead.push({ partition, offset: d.record.offset, reason: d.reason, error: d.error.message, record: d.record });
    const next = (this.offsets.get(partition) ?? 0n).toString();
    for (const { store, records } of this.task(partition).changelog(next)) {
      const topic = this.changelogs.get(changelogTopic(this.topology.name, store))!;
      let log = topic.get(partition);
      if (!log) topic.set(partition, (log = { entries: new Map() }));
      for (const r of records) {
        if (r.key === POSITION_KEY) log.position = r.value!;
        else log.entries.set(String(r.key), r.value);
      }
    }
  }

  /** One partition of a changelog after compaction, the position record last. */
  private compacted(store: string, partition: number): { key: Buffer; value: Buffer | null }[] {
    const log = this.changelogs.get(changelogTopic(this.topology.name, store))!.get(partition);
    if (!log) return [];
    const records = [...log.entries].map(([key, value]) => ({ key: Buffer.from(key), value }));
    return log.position ? [...records, { key: Buffer.from(POSITION_KEY), value: log.position }] : records;
  }
}

/** FNV-1a: a stable partition for a key (not Kafka's murmur2; the driver has no broker to agree with). */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
