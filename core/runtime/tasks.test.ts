import pino from 'pino';
import { PartitionTasks } from './tasks.ts';
import { createMetrics } from './metrics.ts';
import type { KafkaAdapter, OutgoingBatch } from '../kafka/adapter.ts';
import { counting, rec, t0 } from './testdata/counting.ts';

// Logic only: the Kafka client is a stand-in that records what it is asked to send.
function tasksWith(member: () => Promise<void> = async () => undefined) {
  const sent: OutgoingBatch[][] = [];
  const send = async (b: OutgoingBatch[]) => void sent.push(b);
  const kafka = { readToEnd: async () => undefined, send, transactional: async () => ({ send, close: async () => undefined }) } as unknown as KafkaAdapter;
  const tasks = new PartitionTasks({ topology: counting, kafka, sinks: new Map(), metrics: createMetrics('counting'), log: pino({ level: 'silent' }), commitIntervalMs: 0, now: () => t0, member });
  return { tasks, sent };
}

test('a partition kept through a rebalance keeps its task and remembers where it got to; after a lost membership no task is kept', async () => {
  const { tasks } = tasksWith();
  tasks.assign([0, 1]);
  await tasks.process(0, [rec(0), rec(1), rec(2)], [], [], '0', '3');
  expect(tasks.processedBefore(0)).toBe(3n); // fetched again after a failed commit: skipped
  tasks.assign([0]); // still a member: partition 0 is fetched again from its commit, its task goes on
  expect(tasks.active()).toEqual([0]);
  expect(tasks.processedBefore(0)).toBe(3n);
  tasks.assign([0], true); // rejoined after being expelled: another member may have gone on meanwhile
  expect(tasks.active()).toEqual([]);
  expect(tasks.processedBefore(0)).toBeUndefined();
});

test('a batch of a partition this member does not own is refused, and nothing is written', async () => {
  const { tasks, sent } = tasksWith();
  tasks.assign([1]);
  await expect(tasks.process(0, [rec(0)], [], [], '0', '1')).rejects.toThrow('partition 0 is not assigned to this member');
  expect(sent).toEqual([]);
});

test('a member that cannot confirm its membership writes no changelog, and its partition starts again from the changelog', async () => {
  let expelled = false;
  const { tasks, sent } = tasksWith(async () => {
    if (expelled) throw new Error('not writing: no heartbeat for 40 s');
  });
  tasks.assign([0]);
  await tasks.process(0, [rec(0)], [], [], '0', '1');
  expect(sent.flat().map((b) => b.topic)).toEqual(['counting-counts-changelog']);

  expelled = true;
  await expect(tasks.process(0, [rec(1)], [], [], '1', '2')).rejects.toThrow('no heartbeat for 40 s');
  expect(sent).toHaveLength(1);
  expect(tasks.committable(0)).toBeUndefined(); // rebuilt: it resumes from what its changelog restores
});
