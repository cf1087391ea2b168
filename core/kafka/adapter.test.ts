import { createRequire } from 'node:module';
import { chunkBySize, commitOffsets } from './adapter.ts';

const msg = (i: number, bytes: number) => ({ key: `k${i}`, value: Buffer.alloc(bytes) });

test('sends that would exceed the request limit are split in order, never reordering a topic', () => {
  const batches = [
    { topic: 'a', messages: [msg(0, 400), msg(1, 400), msg(2, 400)] },
    { topic: 'b', messages: [msg(3, 100)] },
  ];
  const requests = chunkBySize(batches, 1000);
  expect(requests.map((r) => r.map((t) => `${t.topic}:${t.messages.map((m) => m.key).join(',')}`))).toEqual([
    ['a:k0,k1'],
    ['a:k2', 'b:k3'],
  ]);
});

test('a single record larger than the limit is still sent, alone', () => {
  expect(chunkBySize([{ topic: 'a', messages: [msg(0, 5000), msg(1, 10)] }], 1000).map((r) => r[0]!.messages.length)).toEqual([1, 1]);
  expect(chunkBySize([{ topic: 'a', messages: [] }], 1000)).toEqual([]);
});

describe('a commit refused because the membership is gone', () => {
  // kafkajs's own classes: its retrier wraps a refusal so, and its runner rejoins on the type.
  const load = createRequire(__filename);
  const { KafkaJSNonRetriableError } = load('kafkajs/src/errors.js');
  const { createErrorFromCode } = load('kafkajs/src/protocol/error.js');
  const refusing = (err: unknown) => ({ commitOffsets: () => Promise.reject(err) });
  const offsets = [{ topic: 't', partition: 0, offset: '1' }];

  test.each([[25, 'UNKNOWN_MEMBER_ID'], [22, 'ILLEGAL_GENERATION'], [27, 'REBALANCE_IN_PROGRESS']])('code %i reaches kafkajs with type %s, so that it rejoins', async (code, type) => {
    const refusal = createErrorFromCode(code);
    const err = await commitOffsets(refusing(new KafkaJSNonRetriableError(refusal, { cause: refusal })), offsets).catch((e: unknown) => e);
    expect((err as { type?: string }).type).toBe(type);
  });

  test('other errors go through as they are', async () => {
    const refusal = createErrorFromCode(3); // UNKNOWN_TOPIC_OR_PARTITION
    const wrapped = new KafkaJSNonRetriableError(refusal, { cause: refusal });
    await expect(commitOffsets(refusing(wrapped), offsets)).rejects.toBe(wrapped);
    expect(wrapped.type).toBeUndefined();
  });
});
