import { Subject, type OperatorFunction } from 'rxjs';
import type { InRecord, OutRecord } from '../topology.ts';
import { SluiceError } from '../errors.ts';
import { TaskContext, withTaskContext, type DeadLetter } from '../state/context.ts';
import { eventTime, type TimeOptions } from '../operators/event-time.ts';
import { changelogRecords, ChangelogRestore, type Position } from '../state/changelog.ts';
import type { OutgoingRecord } from '../kafka/adapter.ts';

export interface TaskOptions<V> {
  topology: string;
  partition: number;
  time?: TimeOptions<V>;
  /** The wall clock, ms; the test driver passes a virtual one. */
  now?: () => number;
  /** A replay's event-time range (see TaskContext.replayed). */
  replayed?: { from: number; to: number };
  /** See TopologyDefinition.onPipelineError; default dead-letter. */
  onPipelineError?: 'dead-letter' | 'fail';
}

/** A pipeline built wrongly (asynchronous operators): never a record's fault, so never dead-lettered. */
class EmittedOutsideBatch extends SluiceError {
  override readonly name = 'EmittedOutsideBatch';
}

export interface TaskOutput {
  outputs: OutRecord[];
  /** For each output, the offset of the source record it came from (undefined: a wall-clock tick). */
  origins: (string | undefined)[];
  deadLetters: DeadLetter[];
}

/**
 * One partition's instance of a pipeline, with its event time, stores and wall-clock timers.
 * Records go in one batch at a time; whatever the pipeline emits while a batch (or a wall-clock
 * tick) is pushed belongs to it, so offsets can be committed once it is durable.
 */
export class Task<V> {
  readonly context: TaskContext;
  private input = new Subject<InRecord<V>>();
  private collected: OutRecord[] | undefined;
  private failure: unknown;
  /** Records before this offset are already reflected in the restored stores. */
  private skipBefore = -1n;

  private readonly pipeline: OperatorFunction<InRecord<V>, OutRecord>;
  private readonly opts: TaskOptions<V>;

  constructor(pipeline: OperatorFunction<InRecord<V>, OutRecord>, opts: TaskOptions<V>) {
    this.pipeline = pipeline;
    this.opts = opts;
    this.context = new TaskContext(opts.topology, opts.partition, opts.now);
    if (opts.replayed) this.context.replayed = opts.replayed;
    this.subscribe();
  }

  /** Builds the pipeline on a fresh input: an RxJS pipeline that threw is finished for good. */
  private subscribe(): void {
    this.input = new Subject<InRecord<V>>();
    withTaskContext(this.context, () => this.input.pipe(eventTime(this.opts.time), this.pipeline)).subscribe({
      next: (out) => {
        if (this.collected) this.collected.push(out);
        else this.failure ??= new EmittedOutsideBatch('the pipeline emitted outside a batch: use operators that emit synchronously');
      },
      error: (err: unknown) => {
        this.failure ??= err;
      },
    });
  }

  /** Names of the state stores the pipeline uses (known once it is built). */
  stores(): string[] {
    return this.context.storeNames();
  }

  /** Starts rebuilding one store from its changelog; call `restored` once every batch is applied. */
  restoring(store: string): ChangelogRestore {
    return new ChangelogRestore(this.context.store(store));
  }

  /** Resumes from the stores' restored positions: records they already reflect are skipped. */
  restored(restores: readonly ChangelogRestore[]): string | undefined {
    const positions = restores.flatMap((r) => (r.position ? [r.position] : []));
    if (positions.length === 0) return undefined;
    // With several stores, the one furthest behind says where processing resumes.
    const offset = positions.map((p) => BigInt(p.offset)).reduce((a, b) => (a < b ? a : b));
    this.skipBefore = offset;
    this.context.resume(Math.max(...positions.map((p) => p.streamTime ?? -Infinity)));
    return offset.toString();
  }

  /** Runs `records` through the pipeline; throws, naming the record, when the pipeline fails. */
  process(records: readonly InRecord<V>[]): TaskOutput {
    return this.run((push) => {
      for (const r of records) {
        if (this.skipBefore >= 0n) {
          if (BigInt(r.offset) < this.skipBefore) continue;
          this.skipBefore = -1n; // offsets only grow: no need to compare again
        }
        push(() => this.input.next(r), r);
      }
    });
  }

  /** Lets wall-clock timers (idle timeouts) fire at `now`. */
  tick(now: number): TaskOutput {
    return this.run((push) => push(() => this.context.tick(now)));
  }

  /** True when a store has changes not yet drained to its changelog. */
  hasChanges(): boolean {
    return this.stores().some((store) => this.context.store(store).pending > 0);
  }

  /** The changelog records for what changed since the last call, for a source resuming at `nextOffset`. */
  changelog(nextOffset: string): { store: string; records: OutgoingRecord[] }[] {
    const streamTime = this.context.streamTime();
    const position: Position = { offset: nextOffset, streamTime: Number.isFinite(streamTime) ? streamTime : null };
    return this.stores()
      .map((store) => ({ store, records: changelogRecords(this.context.store(store), this.context.partition, position) }));
  }

  close(): void {
    this.input.complete();
  }

  private run(body: (push: (step: () => void, record?: InRecord<V>) => void) => void): TaskOutput {
    const outputs: OutRecord[] = [];
    const origins: (string | undefined)[] = [];
    this.collected = outputs;
    this.context.deadLetters = [];
    try {
      body((step, r) => {
        const emitted = outputs.length;
        step();
        if (this.failure === undefined) {
          for (let i = emitted; i < outputs.length; i++) origins.push(r?.offset);
          return;
        }
        const cause = this.failure;
        if (r && this.opts.onPipelineError !== 'fail' && !(cause instanceof EmittedOutsideBatch)) {
          // The record goes to the DLQ instead of what it made the pipeline emit; the next one gets a new pipeline.
          outputs.length = emitted;
          this.failure = undefined;
          this.context.deadLetter(r, 'pipeline', cause instanceof Error ? cause : new Error(String(cause)));
          this.subscribe();
          return;
        }
        const where = r ? ` at ${r.topic}/${r.partition}@${r.offset}` : ' on a wall-clock tick';
        throw new SluiceError(`pipeline failed${where}: ${cause instanceof Error ? cause.message : String(cause)}`, {
          cause, context: r ? { topic: r.topic, partition: r.partition, offset: r.offset } : { partition: this.context.partition },
        });
      });
      return { outputs, origins, deadLetters: this.context.deadLetters };
    } finally {
      this.collected = undefined;
    }
  }
}
