import type { Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { describe } from '../cli.ts';
import { isTransient, retry } from '../retry.ts';

/** One produce request's worth: records per topic. */
export type Chunk = { topic: string; messages: Message[] }[];

export interface Sender {
  connect(): Promise<void>;
  /** Sends the chunks in order, each as one request; resolves when every replica has them (acks=all). */
  send(chunks: readonly Chunk[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The sends of one idempotent producer, one at a time, each to its end.
 *
 * kafkajs numbers a partition's batches when it builds a request and gives the numbers back when the
 * request fails, also when Kafka had written it (a timeout, a connection lost before the answer). The
 * same request sent again gets the same numbers, and Kafka keeps it once. Another request that took
 * them would be answered as a duplicate of the first and dropped though acknowledged: the fault suite
 * lost dead letters so. Therefore no other send starts until a request has succeeded; a request that
 * failed with an error that may pass (Kafka away, no leader, a timeout) is sent again as it is, until
 * it succeeds or the sender closes; after any other error the producer starts again under a new
 * producer id, so that no number is used twice, and the error goes to the caller.
 */
export function createSender(o: { newProducer: () => Producer; log: Logger; retryMs?: number; maxRetryMs?: number }): Sender {
  const { retryMs = 250, maxRetryMs = 5000 } = o;
  let producer: Producer | undefined;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const current = async () => {
    if (!producer) {
      const fresh = o.newProducer();
      await fresh.connect();
      producer = fresh;
    }
    return producer;
  };
  const renew = async () => {
    const failed = producer;
    producer = undefined;
    await failed?.disconnect().catch(() => undefined);
  };
  const sendChunk = (topicMessages: Chunk) => retry(async () => {
    await (await current()).sendBatch({ topicMessages, acks: -1 });
  }, {
    isRetriable: (err) => !closed && isTransient(err), initialDelayMs: retryMs, maxDelayMs: maxRetryMs,
    onRetry: (err, attempt, retryInMs) => o.log.warn({ err: { message: describe(err) }, attempt, retryInMs }, 'Kafka send failed; sending the same request again (Kafka keeps it once)'),
  }).catch(async (err: unknown) => {
    await renew();
    throw err;
  });

  return {
    connect: async () => {
      await current();
    },
    send(chunks) {
      const run = queue.then(async () => {
        for (const chunk of chunks) await sendChunk(chunk);
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      closed = true;
      await producer?.disconnect();
    },
  };
}
