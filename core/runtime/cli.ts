import { resolve } from 'node:path';
import type { Topology } from '../topology.ts';
import type { SourceConnector } from '../connector.ts';
import { ConfigError } from '../errors.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { runtimeSchema } from './config.ts';
import { startTopology, type RunningTopology } from './run.ts';

export const usage = `usage: bin/run-topology [<name>] [--topologies <module>]

Runs one topology until SIGTERM or SIGINT, which drain, commit and exit 0.
With no name, lists the topologies.

  --topologies <module>  a module exporting \`topologies\` (default: topologies/index.ts)
  -h, --help             this text

Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL (required); SLUICE_PARTITIONS (6),
SLUICE_OPS_PORT (9464), SLUICE_CONCURRENCY (2), SLUICE_SHUTDOWN_TIMEOUT_MS (30000),
SLUICE_SESSION_TIMEOUT_MS (30000), SLUICE_TICK_MS (1000), SLUICE_COMMIT_INTERVAL_MS (1000),
SLUICE_LOG_LEVEL (info). Sinks and source
connectors (ingest: MQTT_BROKER, MQTT_*, INGEST_*) read their own settings (see the README).`;

export type Entry = Topology<any> | SourceConnector;

export async function loadTopologies(module?: string): Promise<Entry[]> {
  const mod = (await import(module ? resolve(module) : '../../topologies/index.ts')) as { topologies?: Entry[] };
  if (!Array.isArray(mod.topologies)) throw new ConfigError(`${module} does not export a \`topologies\` array`);
  return mod.topologies;
}

export function list(topologies: Entry[]): string {
  if (topologies.length === 0) return '(no topologies registered)';
  const width = Math.max(...topologies.map((t) => t.name.length));
  return topologies.map((t) => `  ${t.name.padEnd(width)}  ${t.description}`).join('\n');
}

/** `bin/run-topology`: returns the process exit code. */
export async function runTopologyCommand(args: { name?: string; help?: boolean; topologies?: string }): Promise<number> {
  if (args.help) {
    console.log(usage);
    return 0;
  }
  const topologies = await loadTopologies(args.topologies);
  if (!args.name) {
    console.log(`topologies:\n${list(topologies)}`);
    return 0;
  }
  const topology = topologies.find((t) => t.name === args.name);
  if (!topology) {
    console.error(`unknown topology "${args.name}"; valid ones:\n${list(topologies)}`);
    return 2;
  }
  const log = createLogger(topology.name);
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
    // A source connector reads its own configuration; a ConfigError from either is exit code 2.
    running = 'kind' in topology ? await topology.run(log) : await startTopology(topology, loadConfig(runtimeSchema), log);
    clearTimeout(startingAfterSignal);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`bin/run-topology ${topology.name}: ${err.message}`);
      return 2;
    }
    log.fatal({ err }, 'could not start');
    console.error(`bin/run-topology ${topology.name}: ${(err as Error).message}`);
    return 1;
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
