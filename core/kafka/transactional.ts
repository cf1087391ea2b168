import type { Kafka } from 'kafkajs';
import { SluiceError } from '../errors.ts';
import { javaCompatiblePartitioner } from './partitioner.ts';
import type { Chunk } from './sender.ts';

/**
 * The only writer of something that must have one (a task's changelogs): a Kafka transactional
 * producer. Opening one with a transactional id fences every earlier one with that id, wherever it
 * runs: its open transaction is aborted, and whatever it sends afterwards is refused by Kafka. So a
 * member that was paused in the middle of a write, or whose send was still being retried while the
 * partition moved on, cannot add anything after its successor began; a reader (read_committed) sees
 * whole transactions only.
 */
export interface TransactionalWriter {
  /** Sends the chunks (each one request) in one transaction and commits it; waits out Kafka being away. Throws once fenced. */
  send(chunks: readonly Chunk[]): Promise<void>;
  close(): Promise<void>;
}

/** Opens the writer for `transactionalId`, fencing its predecessors, before it resolves. */
export async function openTransactionalWriter(kafka: Kafka, transactionalId: string): Promise<TransactionalWriter> {
  const producer = kafka.producer({
    transactionalId, maxInFlightRequests: 1, createPartitioner: javaCompatiblePartitioner, allowAutoTopicCreation: false,
    // A transaction waits for Kafka as long as it takes; a fenced one fails at once (not retriable).
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 250, maxRetryTime: 5000 },
  });
  await producer.connect();
  let broken: Error | undefined;
  const fail = (err: unknown) => {
    const why = fenced(err) ? 'fenced: a newer writer with this id took over (another instance, or this task started again)' : (err as Error).message;
    broken = new SluiceError(`the changelog writer ${transactionalId} stopped (${why}); the task starts again from its changelog`, { retriable: true, cause: err });
    return broken;
  };
  try {
    await (await producer.transaction()).abort(); // the first transaction registers the id: the fence
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    throw fail(err);
  }
  return {
    async send(chunks) {
      if (broken) throw broken;
      const txn = await producer.transaction().catch((err: unknown) => {
        throw fail(err);
      });
      try {
        for (const topicMessages of chunks) await txn.sendBatch({ topicMessages, acks: -1 });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => undefined);
        // The producer's state after a failed transaction is not worth trusting: the task opens a new one.
        throw fail(err);
      }
    },
    close: () => producer.disconnect(),
  };
}

/** Kafka's answer to a writer whose id a newer one opened. */
function fenced(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED') return true;
  }
  return false;
}
