import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Topology } from '../topology.ts';
import type { CheckResult, SourceConnector } from '../connector.ts';
import { ConfigError, SluiceError } from '../errors.ts';
import { loadConfig, settingsLines, type Env } from '../config.ts';
import { createLogger } from '../log.ts';
import { describe } from '../cli.ts';
import { runtimeSchema } from './runtime-settings.ts';
import { settingDocs, settingsHelp } from '../settings-doc.ts';
import { assertPortFree } from './ops.ts';
import { checkTopology } from './check.ts';
import { startTopology, type RunningTopology } from './run.ts';

export const usage = `usage: bin/run-topology [<name> [--check | --help]] [--topologies <module>]

Runs one topology until SIGTERM or SIGINT, which drain, commit and exit 0.
With no name, lists the topologies and their ops ports.

  --check                validates the settings, asks each dependency once (Kafka, the schema
                         registry, each sink; MQTT for ingest), prints the plan and the settings
                         (secrets as ***); consumes nothing, creates no topic. Exit 0: all answered,
                         1: one did not (one line each on stderr), 2: bad settings
  --topologies <module>  a module exporting \`topologies\` (default: topologies/index.ts)
  -h, --help             this text; after a name, that topology's own settings

Environment (every process):
${settingsHelp(settingDocs([runtimeSchema]))}`;

/**
 * A topology built when its process starts, from that process's environment: what it reads is read
 * and checked then, and a bad setting of one topology does not stop the others or the listing.
 * @example { name: 'alerting', description: 'alerts on thresholds', opsPort: 9466, settings: [alertingSchema],
 *   configure: (env) => alertingTopology({}, env) }
 */
export interface TopologyEntry {
  /** The name of the topology `configure` returns. */
  readonly name: string;
  /** One line for the listing; it does not depend on the environment. */
  readonly description: string;
  /** Default port of /health, /ready and /metrics (SLUICE_OPS_PORT overrides; else 9464). */
  readonly opsPort?: number;
  /** The schemas of what it and its sinks read from the environment: validated first, shown by `--check`. */
  readonly settings?: readonly z.ZodObject[];
  /** Reads its settings from `env`; throws ConfigError when one is wrong. */
  configure(env: Env): Topology<any>;
}

/** What a `topologies` module lists. */
export type Entry = Topology<any> | SourceConnector | TopologyEntry;

const isConnector = (e: Entry): e is SourceConnector => 'kind' in e && e.kind === 'source-connector';
const isLazy = (e: Entry): e is TopologyEntry => 'configure' in e;

/** The entries of a `topologies` module, as listed; nothing is configured yet. */
export async function loadEntries(module: string): Promise<Entry[]> {
  const mod = (await import(resolve(module))) as { topologies?: Entry[] };
  if (!Array.isArray(mod.topologies)) throw new ConfigError(`${module} does not export a \`topologies\` array`);
  return mod.topologies;
}

/** The topology an entry stands for, configured from `env`. */
export function configure(entry: Topology<any> | TopologyEntry, env: Env): Topology<any> {
  if (!isLazy(entry)) return entry;
  const topology = entry.configure(env);
  if (topology.name !== entry.name) throw new SluiceError(`the entry ${entry.name} configured a topology named ${topology.name}`);
  return topology;
}


export function list(entries: Entry[]): string {
  if (entries.length === 0) return '(no topologies registered)';
  const width = Math.max(...entries.map((t) => t.name.length));
  return entries.map((t) => `  ${t.name.padEnd(width)}  ${String(t.opsPort ?? 9464).padStart(5)}  ${t.description}`).join('\n');
}

/** The defaults an entry gives the runtime's settings: SLUICE_OPS_PORT, its own port. */
export function entryDefaults(entry: Entry): Env {
  return entry.opsPort === undefined ? {} : { SLUICE_OPS_PORT: String(entry.opsPort) };
}

/** `bin/run-topology`: returns the process exit code. */
export async function runTopologyCommand(args: { name?: string; help?: boolean; check?: boolean; topologies: string }, env: Env = process.env): Promise<number> {
  if (args.help && !args.name) {
    console.log(usage);
    return 0;
  }
  const entries = await loadEntries(args.topologies);
  if (!args.name) {
    if (args.check) throw new ConfigError('--check needs a topology name');
    console.log(`topologies (name, ops port, description):\n${list(entries)}`);
    return 0;
  }
  const entry = entries.find((t) => t.name === args.name);
  if (!entry) {
    console.error(`unknown topology "${args.name}"; valid ones:\n${list(entries)}`);
    return 2;
  }
  if (args.help) {
    console.log(entryHelp(entry));
    return 0;
  }
  const prefix = `bin/run-topology ${entry.name}${args.check ? ' --check' : ''}`;
  try {
    return args.check ? await check(entry, env) : await run(entry, { ...entryDefaults(entry), ...env });
  } catch (err) {
    // Settings: exit 2. A port in use and the like: 1. Both one line, without a stack.
    if (!(err instanceof SluiceError)) throw err;
    console.error(`${prefix}: ${describe(err).replace(/\s*\n\s*/g, '; ')}`);
    return err instanceof ConfigError ? 2 : 1;
  }
}

/** `bin/run-topology <name> --help`: what it does and the settings it reads beyond the runtime's. */
export function entryHelp(entry: Entry): string {
  const own = settingDocs((isConnector(entry) || isLazy(entry) ? entry.settings : undefined) ?? [], [runtimeSchema]);
  return [
    `bin/run-topology ${entry.name}: ${entry.description}`,
    `ops port ${entry.opsPort ?? 9464} (SLUICE_OPS_PORT); the runtime's settings: bin/run-topology --help`,
    '',
    own.length > 0 ? `Environment:\n${settingsHelp(own)}` : 'No settings of its own.',
  ].join('\n');
}

/** `--check`: prints the plan, the settings and the dependencies that answered; the others on stderr. */
async function check(entry: Entry, given: Env): Promise<number> {
  const env = { ...entryDefaults(entry), ...given };
  const log = createLogger(entry.name, env.SLUICE_LOG_LEVEL || 'silent', 'stderr');
  let settings: string[];
  let result: CheckResult;
  if (isConnector(entry)) {
    if (!entry.check) throw new ConfigError(`${entry.name} has no connection check`);
    settings = settingsLines(entry.settings ?? [runtimeSchema], given, entryDefaults(entry));
    result = await entry.check(log, env);
  } else {
    settings = settingsLines([runtimeSchema, ...(isLazy(entry) ? entry.settings ?? [] : [])], given, entryDefaults(entry));
    const topology = configure(entry, env);
    result = await checkTopology(topology, loadConfig(runtimeSchema, env), log);
  }
  const failed = Object.entries(result.dependencies).filter(([, v]) => v !== true);
  console.log([
    `${entry.name}: ${entry.description}`,
    ...result.plan.map((l) => `  ${l}`),
    'settings:', ...settings.map((l) => `  ${l}`),
    'dependencies:', ...Object.entries(result.dependencies).map(([k, v]) => `  ${k}: ${v === true ? 'ok' : 'FAILED'}`),
  ].join('\n'));
  for (const [name, why] of failed) console.error(`${name}: ${why}`);
  return failed.length === 0 ? 0 : 1;
}

/** Runs the entry until a signal (exit 0) or a fatal error (exit 1). */
async function run(entry: Entry, env: Env): Promise<number> {
  // Settings first, then the port: both fail at once, before anything is connected.
  let start: (log: Logger) => Promise<RunningTopology>;
  if (isConnector(entry)) {
    start = (log) => entry.run(log, env);
  } else {
    if (isLazy(entry)) for (const s of entry.settings ?? []) loadConfig(s, env);
    const topology = configure(entry, env);
    const cfg = loadConfig(runtimeSchema, env);
    start = (log) => startTopology(topology, cfg, log);
  }
  await assertPortFree(loadConfig(runtimeSchema.pick({ SLUICE_OPS_PORT: true }), env).SLUICE_OPS_PORT);

  const log = createLogger(entry.name, env.SLUICE_LOG_LEVEL || undefined);
  let running: RunningTopology | undefined;
  // Listened for from here: a signal during start-up stops the topology once it has started, or ends
  // the process if starting takes another 30 s (waiting for Kafka, say). Before, it killed the
  // process at once, also when it had already joined its group.
  let startingAfterSignal: NodeJS.Timeout | undefined;
  const signalled = new Promise<string>((res) => {
    const on = (signal: string) => {
      res(signal);
      if (running === undefined) startingAfterSignal ??= setTimeout(() => process.exit(1), 30_000);
    };
    process.once('SIGTERM', () => on('SIGTERM'));
    process.once('SIGINT', () => on('SIGINT'));
  });
  try {
    running = await start(log);
    clearTimeout(startingAfterSignal);
  } catch (err) {
    // A source connector reads its own configuration: its ConfigError is exit code 2 too.
    log.fatal(err instanceof SluiceError ? { err: { message: describe(err) } } : { err }, 'could not start');
    throw err instanceof SluiceError ? err : new SluiceError(describe(err), { cause: err });
  }
  const outcome = await Promise.race([signalled, running.failed.catch((err: Error) => err)]);
  const code = typeof outcome === 'string' ? 0 : 1;
  if (typeof outcome === 'string') log.info({ signal: outcome }, 'stopping: draining and committing');
  else log.fatal({ err: outcome }, `stopping on a fatal error: ${outcome.message}`);
  try {
    await running.stop();
  } catch (err) {
    log.fatal({ err }, 'shutdown did not complete');
    return 1;
  }
  log.info('stopped');
  return code;
}
