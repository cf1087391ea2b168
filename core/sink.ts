import type { Logger } from 'pino';
import type { OutRecord } from './topology.ts';
import type { KafkaAdapter } from './kafka/adapter.ts';
import type { RegistryClient } from './serde/registry.ts';

export interface SourcePartition {
  readonly topic: string;
  readonly partition: number;
}

/** What the runtime lends a sink. */
export interface SinkContext {
  readonly topology: string;
  /** The consumer group reading the source (the topology's name, or a replay's group): offsets a sink keeps are keyed by it. */
  readonly group: string;
  /** Set during a replay (`bin/replay`): the event-time range replayed, ms, [from, to). */
  readonly replay?: { readonly from: number; readonly to: number };
  readonly kafka: KafkaAdapter;
  readonly registry: RegistryClient;
  readonly log: Logger;
  /** For sinks that buffer (see `Sink.durable`): call when more of `source` became durable outside a write(). */
  readonly durableChanged: (source: SourcePartition) => void;
  /**
   * Resolves while this process is still a member of its consumer group; throws (retriable) when it
   * may have lost its partitions (paused past the session timeout). A sink that writes outside a
   * batch (a timed upload) calls it before each write, so as not to overwrite or delete what the
   * partition's new owner wrote. `confirm`: ask the coordinator even after a recent heartbeat
   * (before deleting what another member wrote).
   */
  readonly member: (opts?: { confirm?: boolean }) => Promise<void>;
  /** This process's member id in its group (undefined before it joined, or without a group): work begun under one id is not finished under another. */
  readonly membership: () => string | undefined;
}

/** Called by a sink for an output record it cannot write (for example, one its schema refuses). */
export type Reject = (record: OutRecord, reason: string, error: Error) => void;

/**
 * Sends the dead letters of the batch being written (those of decoding and of the pipeline, and
 * those reject()ed so far) to the dead-letter topic now; resolves once they are durable. A crash
 * after it and before the batch is committed sends them again on the retry (at least once).
 */
export type SendDeadLetters = () => Promise<void>;

export interface Sink {
  /** Connection check: throws with a message that says what to fix. Run before consuming, and by /ready. */
  check(): Promise<void>;
  /** Kafka topics the sink writes; the runtime creates missing ones with the source's partition count. */
  topics(): string[];
  /**
   * Makes `records` durable; resolves only once they are. `nextOffset` is where the source
   * partition resumes after this batch: a sink that keeps its own offsets stores it atomically, and
   * calls `sendDeadLetters` before that commit, since a restart skips a batch it stored.
   */
  write(records: readonly OutRecord[], source: SourcePartition & { nextOffset: string }, reject: Reject, sendDeadLetters: SendDeadLetters): Promise<void>;
  /** For sinks that keep offsets themselves: where the partition resumes, if they know. */
  resumeOffset?(source: SourcePartition): Promise<string | undefined>;
  /** For sinks that keep offsets themselves: moves them (`bin/replay --reset-to`), partition → next offset. */
  resetOffsets?(topic: string, offsets: ReadonlyMap<number, string>): Promise<void>;
  /**
   * Buffering sinks only (files of many batches): their write() may accept records without making
   * them durable. Returns the offset before which everything written for `source` is durable (or
   * undefined: nothing was written yet); the runtime commits no further than the lowest of these.
   */
  durable?(source: SourcePartition): string | undefined;
  /** Buffering sinks only: the partition was revoked; drop its buffer (the next owner reads it again). */
  release?(source: SourcePartition): void;
  /**
   * The process is stopping: a write waiting to retry should fail now instead (its batch is not
   * committed; the next owner processes it again), so that shutdown does not wait out an outage.
   */
  stopping?(): void;
  close(): Promise<void>;
}

export type SinkFactory = (ctx: SinkContext) => Promise<Sink>;
