import pino from 'pino';
import { durableCommitter } from './commits.ts';
import { PartitionTasks } from './tasks.ts';
import { createMetrics } from './metrics.ts';
import type { KafkaAdapter, OutgoingBatch } from '../kafka/adapter.ts';
import { counting, rec, t0 } from './testdata/counting.ts';

// Logic only: the Kafka client is a stand-in that records what it is asked to send and commit.

test('a commit that failed after a timed changelog write is sent again at the next tick, and once it succeeded no more', async () => {
  let now = t0;
  const sent: OutgoingBatch[][] = [];
  const send = async (b: OutgoingBatch[]) => void sent.push(b);
  const kafka = { readToEnd: async () => undefined, send, transactional: async () => ({ send, close: async () => undefined }) } as unknown as KafkaAdapter;
  const tasks = new PartitionTasks({ topology: counting, kafka, sinks: new Map(), metrics: createMetrics('counting'), log: pino({ level: 'silent' }), commitIntervalMs: 1000, now: () => now });
  const commits: string[] = [];
  let failures = 1;
  const commitDurable = durableCommitter((p) => tasks.committable(p), async (p, offset) => {
    commits.push(`${p}@${offset}`);
    if (failures-- > 0) throw new Error('The coordinator is not aware of this member');
  });
  // As the runtime's ticker: the tasks' timers, then the commits of every active partition.
  const tick = async () => {
    await tasks.tick(now);
    for (const p of tasks.active()) await commitDurable(p);
  };

  tasks.assign([0]);
  // Within the commit interval: nothing written, and the batch may commit only where it started.
  expect(await tasks.process(0, [rec(0), rec(1)], [], [], '0', '2')).toBe('0');
  expect(sent).toEqual([]);

  now += 1000; // the partition is idle from here on: only ticks write and commit
  await expect(tick()).rejects.toThrow('not aware of this member');
  expect(sent.flat().map((b) => b.topic)).toEqual(['counting-counts-changelog']);
  expect(commits).toEqual(['0@2']);

  now += 1000;
  await tick();
  expect(commits).toEqual(['0@2', '0@2']);
  now += 1000;
  await tick();
  expect(commits).toEqual(['0@2', '0@2']);
  expect(sent).toHaveLength(1); // and the unchanged state was not written again
});
