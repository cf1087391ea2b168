import { ConfigError, SluiceError } from '../errors.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { connectKafka } from '../kafka/adapter.ts';
import { RegistryClient } from '../serde/registry.ts';
import { runtimeSchema } from '../runtime/runtime-settings.ts';
import { configure, loadEntries } from '../runtime/cli.ts';
import { formatPlan, planReplay } from './plan.ts';
import { executeReplay } from './execute.ts';
import { ReplayRefused, resetTo } from './reset.ts';
import { iso, parseDuration, parseTime } from './time.ts';

export const usage = `usage: bin/replay <topology> (--from <time> [--to <time>] | --last <duration>) [--execute]
       bin/replay <topology> --reset-to <time> [--execute]

Replays a range of the topology's source topic through its pipeline and sinks, under a consumer group
of its own (<topology>.replay.<time>), while the live topology keeps running. Without --execute it
only prints the plan: per partition the start and end offsets and the record count.

  --from <time>          first record time (Kafka record timestamp) of the range, inclusive
  --to <time>            end of the range, exclusive (default: the end of each partition, now)
  --last <duration>      the range ending now, e.g. 90s, 15m, 6h, 7d
  --reset-to <time>      moves the topology's own consumer group (and offsets its sinks store) to <time>;
                         refused while the group has active members
  --execute              do it (default: show the plan)
  --topologies <module>  a module exporting \`topologies\` (default: topologies/index.ts)

<time>: ISO 8601 with a timezone (2026-11-27T08:00:00Z, 2026-11-27T09:00:00+01:00) or epoch ms.
Environment: as bin/run-topology (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, SLUICE_STARTUP_TIMEOUT_MS: how long to
wait for Kafka and the registry (60000 ms), sinks' settings).
Logs (JSON) go to stderr at SLUICE_LOG_LEVEL (default here: warn).`;

export interface ReplayArgs {
  topology?: string;
  from?: string;
  to?: string;
  last?: string;
  resetTo?: string;
  execute?: boolean;
  help?: boolean;
  /** The module listing the topologies (bin/replay: --topologies, else topologies/index.ts). */
  topologies: string;
}

type Action = { kind: 'replay'; from: number; to?: number } | { kind: 'reset'; time: number };

/** Which action the options ask for; throws ConfigError on a wrong combination or time. */
export function parseAction(args: Omit<ReplayArgs, 'topologies'>, now: number): Action {
  const modes = [args.from, args.last, args.resetTo].filter((v) => v !== undefined).length;
  if (modes !== 1) throw new ConfigError('give exactly one of --from, --last and --reset-to');
  if (args.resetTo !== undefined) {
    if (args.to !== undefined) throw new ConfigError('--to goes with --from, not with --reset-to');
    return { kind: 'reset', time: parseTime('--reset-to', args.resetTo) };
  }
  if (args.last !== undefined) {
    if (args.to !== undefined) throw new ConfigError('--to goes with --from, not with --last');
    return { kind: 'replay', from: now - parseDuration('--last', args.last) };
  }
  const from = parseTime('--from', args.from!);
  const to = args.to === undefined ? undefined : parseTime('--to', args.to);
  if (to !== undefined && to <= from) throw new ConfigError(`--to must be after --from, got --from ${iso(from)} --to ${iso(to)}`);
  return { kind: 'replay', from, to };
}

/** `bin/replay`: returns the process exit code (2: refusal); throws ConfigError on bad arguments or settings, and on failures. */
export async function replayCommand(args: ReplayArgs): Promise<number> {
  if (args.help) {
    console.log(usage);
    return 0;
  }
  // Only the replayed topology's settings are read: another's bad setting does not stop it.
  const entries = await loadEntries(args.topologies);
  const entry = entries.find((t) => t.name === args.topology);
  if (entry && 'kind' in entry) throw new ConfigError(`${entry.name} is a source connector: it reads no Kafka topic that could be replayed`);
  if (!entry) throw new ConfigError(`${args.topology ? `unknown topology "${args.topology}"` : 'name a topology'}; valid ones: ${entries.map((t) => t.name).join(', ')}`);
  const topology = configure(entry, process.env);
  const action = parseAction(args, Date.now());
  const cfg = loadConfig(runtimeSchema);

  const level = process.env.SLUICE_LOG_LEVEL || undefined;
  const log = createLogger(`${topology.name}.replay`, level ?? 'warn', 'stderr');
  const startup = { timeoutMs: cfg.SLUICE_STARTUP_TIMEOUT_MS, setting: 'SLUICE_STARTUP_TIMEOUT_MS', log };
  // kafkajs logs every failed connection attempt; unless asked for, its failure is the one line.
  const kafka = await connectKafka(cfg.KAFKA_BROKERS, `sluice-replay-${topology.name}`, level ? log : log.child({}, { level: 'fatal' }), startup);
  try {
    if (action.kind === 'reset') {
      console.log(await resetTo(topology, action.time, { kafka, registry: new RegistryClient(cfg.SCHEMA_REGISTRY_URL, startup), log, execute: args.execute ?? false }));
      return 0;
    }
    const plan = await planReplay(kafka, topology.source.topic, action);
    console.log(formatPlan(plan));
    if (!args.execute) {
      console.log(`dry run: --execute replays it through ${topology.name}'s pipeline and sinks`);
      return 0;
    }
    if (plan.records === 0n) {
      console.log('nothing to replay');
      return 0;
    }
    const interrupted = new Promise<never>((_, reject) => {
      const stop = (signal: string) => reject(new SluiceError(`interrupted by ${signal}: part of the range was replayed; a replay is idempotent, run it again`));
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    interrupted.catch(() => undefined);
    console.log(await executeReplay(topology, plan, { cfg, kafka, log, out: process.stdout, interrupted }));
    return 0;
  } catch (err) {
    if (!(err instanceof ReplayRefused)) throw err;
    console.error(`bin/replay ${topology.name}: ${err.message}`);
    return 2;
  } finally {
    await kafka.close();
  }
}
