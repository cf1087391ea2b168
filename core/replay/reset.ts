import type { Logger } from 'pino';
import type { Topology } from '../topology.ts';
import type { KafkaAdapter } from '../kafka/adapter.ts';
import type { RegistryClient } from '../serde/registry.ts';
import { SluiceError } from '../errors.ts';
import { consumerGroup } from '../naming.ts';
import { storesOf } from '../runtime/tasks.ts';
import { iso } from './time.ts';

export class ReplayRefused extends SluiceError {
  override readonly name = 'ReplayRefused';
}

/**
 * `--reset-to`: moves the topology's own consumer group, and the offsets its sinks keep themselves
 * (in their database), to the first offsets at or after `time`. Refuses while the group has members,
 * naming them, and for topologies with state stores (their changelogs would not move back with them).
 * Without `execute`, only says what it would do.
 */
export async function resetTo<V>(topology: Topology<V>, time: number, deps: { kafka: KafkaAdapter; registry: RegistryClient; log: Logger; execute: boolean }): Promise<string> {
  const { kafka } = deps;
  const group = consumerGroup(topology.name);
  const topic = topology.source.topic;
  const stores = storesOf(topology);
  if (stores.length > 0) {
    throw new ReplayRefused(`${topology.name} keeps state in stores (${stores.join(', ')}) that --reset-to cannot move back: replay the range instead (--from … --execute)`);
  }
  const members = await kafka.groupMembers(group);
  if (members.length > 0) {
    const who = members.map((m) => `${m.clientId} on ${m.host} (member ${m.memberId})`).join(', ');
    throw new ReplayRefused(`consumer group ${group} has ${members.length} active member${members.length > 1 ? 's' : ''}: ${who}; stop ${topology.name} before --reset-to`);
  }
  const target = await kafka.offsetsForTime(topic, time);
  const current = await kafka.groupOffsets(group, topic);
  const lines = [`consumer group ${group} on ${topic}, reset to ${iso(time)}:`, 'partition  committed  new offset',
    ...[...target].sort(([a], [b]) => a - b).map(([p, o]) => `${String(p).padEnd(9)}  ${(current.get(p) ?? '-').padStart(9)}  ${o.padStart(10)}`)];
  if (!deps.execute) return [...lines, 'dry run: --execute moves the offsets'].join('\n');

  // The sinks first: on its next start the topology resumes from what they stored, whatever Kafka says.
  const ctx = { topology: topology.name, group, kafka, registry: deps.registry, log: deps.log, durableChanged: () => undefined, member: async () => undefined, membership: () => undefined };
  const moved: string[] = [];
  for (const [name, factory] of Object.entries(topology.sinks)) {
    const sink = await factory(ctx);
    try {
      if (sink.resetOffsets) {
        await sink.resetOffsets(topic, target);
        moved.push(`sink ${name}`);
      }
    } finally {
      await sink.close();
    }
  }
  await kafka.setGroupOffsets(group, topic, target);
  return [...lines, `moved the offsets of ${[...moved, `consumer group ${group}`].join(' and ')}`].join('\n');
}
