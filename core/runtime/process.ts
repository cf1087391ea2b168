import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { connectKafka, type KafkaAdapter } from '../kafka/adapter.ts';
import { RegistryClient } from '../serde/registry.ts';
import type { Startup } from '../retry.ts';
import { startOpsServer } from './ops.ts';
import type { RuntimeConfig } from './runtime-settings.ts';

/** What a process runs: a topology, or a source connector. */
export interface Component {
  /** Per dependency: true, or why it is not ready (/ready answers 503 then). */
  ready(): Promise<Record<string, boolean | string>>;
  /** Rejects when the component stops on a fatal error. */
  readonly failed: Promise<never>;
  /** Stops taking input, makes durable what is in progress, closes what it opened itself. */
  stop(): Promise<void>;
  /** What the `started` log line says of it (the ops port is added last). */
  readonly started?: Record<string, unknown>;
}

/** What the runtime gives a component it starts. */
export interface ProcessContext {
  readonly kafka: KafkaAdapter;
  readonly registry: RegistryClient;
  /** How long start-up waits for each service (SLUICE_STARTUP_TIMEOUT_MS), and who hears of it. */
  readonly startup: Startup;
}

export interface RunningProcess {
  /** The port /health, /ready and /metrics answer on. */
  readonly opsPort: number;
  /** Rejects when the component stops on a fatal error. */
  readonly failed: Promise<never>;
  /** Stops the component within SLUICE_SHUTDOWN_TIMEOUT_MS, then closes Kafka and the ops server. */
  stop(): Promise<void>;
}

type ProcessConfig = Pick<RuntimeConfig, 'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL' | 'SLUICE_OPS_PORT' | 'SLUICE_STARTUP_TIMEOUT_MS' | 'SLUICE_SHUTDOWN_TIMEOUT_MS'>;

export const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref())]);

/**
 * The one runtime of every Sluice process: connects to the schema registry and Kafka (waiting out
 * what is normal while they start, core/retry.ts), starts the component, serves /health, /ready and
 * /metrics on SLUICE_OPS_PORT, and stops it. A component that fails to start cleans up after itself;
 * the runtime then closes Kafka. Signals are heard by `bin/run-topology` (core/runtime/cli.ts).
 */
export async function startProcess<C extends Component>(name: string, cfg: ProcessConfig, log: Logger, metrics: Registry, start: (ctx: ProcessContext) => Promise<C>): Promise<RunningProcess & { component: C }> {
  const startup = { timeoutMs: cfg.SLUICE_STARTUP_TIMEOUT_MS, setting: 'SLUICE_STARTUP_TIMEOUT_MS', log };
  const registry = new RegistryClient(cfg.SCHEMA_REGISTRY_URL, startup);
  const kafka = await connectKafka(cfg.KAFKA_BROKERS, `sluice-${name}`, log, startup);
  let component: C | undefined;
  let server: Server | undefined;
  try {
    component = await start({ kafka, registry, startup });
    const running = component;
    server = await startOpsServer({ port: cfg.SLUICE_OPS_PORT, metrics, ready: () => running.ready() });
    const address = server.address();
    const opsPort = typeof address === 'object' && address ? address.port : cfg.SLUICE_OPS_PORT;
    const srv = server;
    log.info({ ...running.started, opsPort }, 'started');
    return {
      component: running,
      opsPort,
      failed: running.failed,
      stop: () => withTimeout((async () => {
        await running.stop();
        await kafka.close();
        srv.close();
      })(), cfg.SLUICE_SHUTDOWN_TIMEOUT_MS, 'shutdown'),
    };
  } catch (err) {
    await component?.stop().catch(() => undefined);
    server?.close();
    await kafka.close().catch(() => undefined);
    throw err;
  }
}
