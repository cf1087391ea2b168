import type { Logger } from 'pino';
import type { Topology } from '../topology.ts';
import type { KafkaAdapter } from '../kafka/adapter.ts';
import type { RuntimeConfig } from '../runtime/runtime-settings.ts';
import { startTopology } from '../runtime/run.ts';
import { storesOf } from '../runtime/tasks.ts';
import { changelogTopic } from '../naming.ts';
import type { ReplayPlan } from './plan.ts';
import { ReplayProgress } from './progress.ts';
import { replayGroup } from './time.ts';

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Runs the topology's pipeline and sinks over the planned offsets, under a consumer group of its own
 * (`<topology>.replay.<time>`, also the prefix of its changelog topics), next to the live topology.
 * Stops once every partition reached the end offset of the plan; then deletes its group and
 * changelog topics. Wall-clock timers do not fire, so a window closes only when the replayed event
 * times close it, as they did live. Progress goes to `out`: a redrawn line on a terminal, else a
 * line every 5 seconds. Returns the summary line. `interrupted` (a signal) stops it early, cleaning up the same way.
 */
export async function executeReplay<V>(topology: Topology<V>, plan: ReplayPlan,
  deps: { cfg: RuntimeConfig; kafka: KafkaAdapter; log: Logger; out: Output; interrupted?: Promise<never> }): Promise<string> {
  const { kafka, out } = deps;
  const group = replayGroup(topology.name, Date.now());
  out.write(`replaying ${plan.records} records under consumer group ${group}\n`);
  const progress = new ReplayProgress(plan, Date.now());
  const draw = () => out.write(out.isTTY ? `\r${progress.line(Date.now())}\x1b[K` : `${progress.line(Date.now())}\n`);
  const timer = setInterval(draw, out.isTTY ? 250 : 5000);
  let running: Awaited<ReturnType<typeof startTopology>> | undefined;
  try {
    running = await startTopology(topology, { ...deps.cfg, SLUICE_OPS_PORT: 0 }, deps.log, {
      groupId: group,
      stateNamespace: group,
      startOffsets: new Map(plan.partitions.map((p) => [p.partition, p.start])),
      endOffsets: new Map(plan.partitions.map((p) => [p.partition, p.end])),
      // A range from offset 0 of every partition has nothing before it: nothing in it began earlier.
      replayed: { from: plan.partitions.every((p) => p.start === '0') ? -Infinity : plan.from, to: plan.to ?? Infinity },
      wallClock: false,
      onProgress: (partition, next) => progress.update(partition, next),
    });
    progress.restart(Date.now());
    await Promise.race([running.finished, running.failed, ...(deps.interrupted ? [deps.interrupted] : [])]);
    draw();
    if (out.isTTY) out.write('\n');
    return progress.summary(Date.now());
  } finally {
    clearInterval(timer);
    await running?.stop();
    await kafka.deleteGroupAndTopics(group, storesOf(topology).map((store) => changelogTopic(group, store)));
  }
}
