import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { javaCompatiblePartitioner, murmur2 } from './partitioner.ts';

test('murmur2 gives the Java client\'s values (Kafka\'s own UtilsTest vectors)', () => {
  const cases: [string, number][] = [
    ['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107],
  ];
  for (const [key, hash] of cases) expect([key, murmur2(Buffer.from(key))]).toEqual([key, hash]);
});

test('every key lands on the partition kafkajs\' DefaultPartitioner picks, for 1 to 64 partitions', () => {
  const ours = javaCompatiblePartitioner();
  const theirs = Partitioners.DefaultPartitioner();
  for (let i = 0; i < 5000; i++) {
    const partitions = 1 + (i % 64);
    const args: PartitionerArgs = {
      topic: 't',
      partitionMetadata: Array.from({ length: partitions }, (_, p) => ({ partitionId: p, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 })),
      message: { key: i % 2 ? randomBytes(i % 40) : `device-${i}`, value: null },
    };
    expect(ours(args)).toBe(theirs(args));
  }
});

test('a given partition is kept; records without a key go round robin over partitions with a leader', () => {
  const pick = javaCompatiblePartitioner();
  const partitionMetadata = [0, 1, 2].map((p) => ({ partitionId: p, leader: p === 1 ? -1 : 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
  expect(pick({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: 1 } })).toBe(1);
  const seen = Array.from({ length: 6 }, () => pick({ topic: 't', partitionMetadata, message: { value: null } }));
  expect(new Set(seen)).toEqual(new Set([0, 2]));
  expect(seen[0]).not.toBe(seen[1]);
});

test('a record without a key keeps its partition when kafkajs partitions its send again for a retry', () => {
  const pick = javaCompatiblePartitioner();
  const partitionMetadata = [0, 1, 2, 3].map((p) => ({ partitionId: p, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
  const deadLetter = { value: Buffer.from('not a number') };
  const first = pick({ topic: 'sluice.dlq', partitionMetadata, message: deadLetter });
  for (let retry = 0; retry < 5; retry++) expect(pick({ topic: 'sluice.dlq', partitionMetadata, message: deadLetter })).toBe(first);
  expect(pick({ topic: 'sluice.dlq', partitionMetadata, message: { value: Buffer.from('another') } })).not.toBe(first);
});
