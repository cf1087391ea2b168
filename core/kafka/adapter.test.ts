import { chunkBySize } from './adapter.ts';

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
