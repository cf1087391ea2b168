import type { Producer, ProducerBatch } from 'kafkajs';
import { pino } from 'pino';
import { createSender, type Chunk } from './sender.ts';

/** A stand-in for kafkajs's producer (the logic under test is the sender's): each sendBatch takes the next outcome. */
function fakeProducers(outcomes: (Error | undefined)[]) {
  const made: { id: number; sent: string[]; disconnected: boolean }[] = [];
  let running = 0;
  let overlapped = false;
  const newProducer = () => {
    const p = { id: made.length, sent: [] as string[], disconnected: false };
    made.push(p);
    return {
      connect: async () => undefined,
      disconnect: async () => void (p.disconnected = true),
      sendBatch: async (b: ProducerBatch) => {
        running++;
        overlapped ||= running > 1;
        await new Promise((res) => setTimeout(res, 5));
        running--;
        const err = outcomes.shift();
        if (err) throw err;
        p.sent.push(b.topicMessages!.map((t) => `${t.topic}:${t.messages.map((m) => m.value).join(',')}`).join(' '));
        return [];
      },
    } as unknown as Producer;
  };
  return { newProducer, made, overlapped: () => overlapped };
}

const chunk = (...values: string[]): Chunk => [{ topic: 't', messages: values.map((value) => ({ value })) }];
const log = pino({ level: 'silent' });
const transient = () => Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
const refused = () => Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE', retriable: false });

test('sends run one at a time, in the order they were made', async () => {
  const f = fakeProducers([]);
  const sender = createSender({ newProducer: f.newProducer, log });
  await Promise.all([sender.send([chunk('a'), chunk('b')]), sender.send([chunk('c')]), sender.send([chunk('d')])]);
  expect(f.overlapped()).toBe(false);
  expect(f.made.map((p) => p.sent)).toEqual([['t:a', 't:b', 't:c', 't:d']]);
});

test('a request that failed with an error that may pass is sent again as it is, on the same producer, before any other', async () => {
  const f = fakeProducers([undefined, transient(), transient()]);
  const sender = createSender({ newProducer: f.newProducer, log, retryMs: 1 });
  await Promise.all([sender.send([chunk('a'), chunk('b')]), sender.send([chunk('c')])]);
  // One producer: its sequence numbers, given back for b, are b's again, and Kafka keeps b once.
  expect(f.made.map((p) => p.sent)).toEqual([['t:a', 't:b', 't:c']]);
});

test('after any other error the caller hears of it and the next send has a new producer', async () => {
  const f = fakeProducers([refused()]);
  const sender = createSender({ newProducer: f.newProducer, log });
  await expect(sender.send([chunk('too large')])).rejects.toThrow('larger than the max message size');
  await sender.send([chunk('next')]);
  expect(f.made.map((p) => ({ sent: p.sent, disconnected: p.disconnected }))).toEqual([{ sent: [], disconnected: true }, { sent: ['t:next'], disconnected: false }]);
});

test('a closed sender stops retrying and says why', async () => {
  const f = fakeProducers(Array.from({ length: 1000 }, transient));
  const sender = createSender({ newProducer: f.newProducer, log, retryMs: 1, maxRetryMs: 1 });
  const sending = sender.send([chunk('a')]);
  await new Promise((res) => setTimeout(res, 30));
  await sender.close();
  await expect(sending).rejects.toThrow('ECONNREFUSED');
});
