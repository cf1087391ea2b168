import { Subject, type Observable } from 'rxjs';
import type { InRecord } from '../topology.ts';
import { SluiceError } from '../errors.ts';
import { KeyValueStore } from './store.ts';

export interface DeadLetter {
  readonly record: InRecord<unknown>;
  readonly reason: string;
  readonly error: Error;
}

/**
 * What the operators of one partition's pipeline share: the wall clock, stream time, state stores
 * and the dead-letter list of the batch being processed.
 */
export class TaskContext {
  private stream = -Infinity;
  private active = { wall: 0, streamTime: -Infinity };
  private readonly stores = new Map<string, KeyValueStore<any>>();
  private readonly ticks = new Subject<number>();
  deadLetters: DeadLetter[] = [];
  /**
   * The event times a replay covers, [from, to): a window not wholly inside (start < from, or
   * end + grace > to) lacks records in the replay, so window operators do not emit it. Live: everything.
   */
  replayed: { readonly from: number; readonly to: number } = { from: -Infinity, to: Infinity };

  readonly topology: string;
  readonly partition: number;
  readonly now: () => number;

  constructor(topology: string, partition: number, now: () => number = Date.now) {
    this.topology = topology;
    this.partition = partition;
    this.now = now;
  }

  /** Wall-clock instants at which the runtime (or the test driver) looks at idle timers. */
  get wallClock(): Observable<number> {
    return this.ticks;
  }

  tick(now: number): void {
    this.ticks.next(now);
  }

  /** The largest event time this partition has seen (or reached by an idle timeout); -Infinity before any. */
  streamTime(): number {
    return this.stream;
  }

  /** Moves stream time forward to `time`; never back. */
  advanceStreamTime(time: number): void {
    if (time > this.stream) this.stream = time;
  }

  /** A record was accepted at event time `time`: stream time and the idle clock move. */
  observe(time: number): void {
    this.advanceStreamTime(time);
    this.active = { wall: this.now(), streamTime: this.stream };
  }

  /** Stream time as if event time had kept pace with the wall clock since the last record. */
  idleStreamTime(now: number): number {
    return this.active.streamTime + (now - this.active.wall);
  }

  /** Wall-clock ms since the last accepted record (or since the task started). */
  idleFor(now: number): number {
    return now - this.active.wall;
  }

  /** Restores stream time, and starts the idle clock, after a restart. */
  resume(streamTime: number | null): void {
    if (streamTime !== null) this.advanceStreamTime(streamTime);
    this.active = { wall: this.now(), streamTime: this.stream };
  }

  store<V>(name: string): KeyValueStore<V> {
    let s = this.stores.get(name);
    if (!s) this.stores.set(name, (s = new KeyValueStore<V>(name)));
    return s;
  }

  storeNames(): string[] {
    return [...this.stores.keys()];
  }

  deadLetter(record: InRecord<unknown>, reason: string, error: Error): void {
    this.deadLetters.push({ record, reason, error });
  }
}

let current: TaskContext | undefined;

/** Runs `build` (which applies a pipeline to its source) with `ctx` visible to stateful operators. */
export function withTaskContext<T>(ctx: TaskContext, build: () => T): T {
  const outer = current;
  current = ctx;
  try {
    return build();
  } finally {
    current = outer;
  }
}

/** The context of the task whose pipeline is being built; stateful operators call it when applied. */
export function taskContext(operator: string): TaskContext {
  if (!current) throw new SluiceError(`${operator} needs a task: use it in a topology's pipeline (or inside withTaskContext in a test)`);
  return current;
}
