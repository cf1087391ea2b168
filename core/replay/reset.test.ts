import { of } from 'rxjs';
import pino from 'pino';
import { defineTopology, windowedAggregate, TimeWindows, minutes } from '../index.ts';
import type { KafkaAdapter } from '../kafka/adapter.ts';
import type { RegistryClient } from '../serde/registry.ts';
import type { Sink } from '../sink.ts';
import { resetTo } from './reset.ts';

const log = pino({ level: 'silent' });
const registry = {} as RegistryClient;
const T = Date.UTC(2026, 10, 27, 8);

function fakeKafka(members: { memberId: string; clientId: string; host: string }[] = []) {
  const set: [string, Map<number, string>][] = [];
  const kafka = {
    groupMembers: async () => members,
    offsetsForTime: async () => new Map([[0, '40'], [1, '7']]),
    groupOffsets: async () => new Map([[0, '90']]),
    setGroupOffsets: async (group: string, _topic: string, offsets: ReadonlyMap<number, string>) => void set.push([group, new Map(offsets)]),
  } as unknown as KafkaAdapter;
  return { kafka, set };
}

function topology(reset: (topic: string, offsets: ReadonlyMap<number, string>) => void) {
  const sink: Sink = { check: async () => undefined, topics: () => [], write: async () => undefined, close: async () => undefined, resetOffsets: async (t, o) => reset(t, o) };
  return defineTopology({ name: 'loader', description: 'd', source: { topic: 'in', schema: 's' }, pipeline: () => of(), sinks: { db: async () => sink } });
}

test('--reset-to moves the sink\'s stored offsets, then the group\'s; without --execute it only shows them', async () => {
  const moved: [string, Map<number, string>][] = [];
  const t = topology((topic, offsets) => moved.push([topic, new Map(offsets)]));
  const dry = fakeKafka();
  expect(await resetTo(t, T, { kafka: dry.kafka, registry, log, execute: false })).toBe([
    'consumer group loader on in, reset to 2026-11-27T08:00:00.000Z:',
    'partition  committed  new offset',
    '0                 90          40',
    '1                  -           7',
    'dry run: --execute moves the offsets',
  ].join('\n'));
  expect([moved, dry.set]).toEqual([[], []]);

  const run = fakeKafka();
  expect(await resetTo(t, T, { kafka: run.kafka, registry, log, execute: true })).toContain('moved the offsets of sink db and consumer group loader');
  expect(moved).toEqual([['in', new Map([[0, '40'], [1, '7']])]]);
  expect(run.set).toEqual([['loader', new Map([[0, '40'], [1, '7']])]]);
});

test('--reset-to refuses while the group has members, naming them, and for topologies with state stores', async () => {
  const busy = fakeKafka([{ memberId: 'm-1', clientId: 'sluice-loader', host: '/10.0.0.7' }]);
  await expect(resetTo(topology(() => undefined), T, { kafka: busy.kafka, registry, log, execute: true }))
    .rejects.toThrow('consumer group loader has 1 active member: sluice-loader on /10.0.0.7 (member m-1); stop loader before --reset-to');
  const stateful = defineTopology<{ time: number }>({
    name: 'counter', description: 'd', source: { topic: 'in', schema: 's' },
    pipeline: (src) => src.pipe(windowedAggregate({ store: 'counts', window: TimeWindows.tumbling({ size: minutes(5), grace: 0 }), initial: () => 0, add: (n: number) => n + 1, emit: 'final', buffer: { maxWindows: 10, whenFull: 'fail' } }), () => of()),
    sinks: { db: async () => ({}) as Sink },
  });
  await expect(resetTo(stateful, T, { kafka: fakeKafka().kafka, registry, log, execute: true })).rejects.toThrow('counter keeps state in stores (counts) that --reset-to cannot move back');
});
