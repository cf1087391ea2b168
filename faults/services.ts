// The services of a fault-suite run and the faults done to them. PostgreSQL and Mosquitto are the
// run's own (private, thrown away at the end); Kafka, the registry and the object store are the
// stack's, which the suite stops and restarts only when bin/stack started them, and always leaves
// running (restoreStack).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../core/errors.ts';
import { loadConfig } from '../core/config.ts';
import type { KafkaAdapter } from '../core/kafka/adapter.ts';
import { changelogTopic, valueSubject } from '../core/naming.ts';
import { archiveSchema, destinationOf } from '../sinks/archive/archive-settings.ts';
import { runNames } from './topologies.ts';
import type { Service } from '../infra/stack/service.ts';
import { isAlive, startedPid, waitUntilAnswers } from '../infra/stack/proc.ts';
import { kafka } from '../infra/stack/services/kafka.ts';
import { registry } from '../infra/stack/services/registry.ts';
import { objectstore } from '../infra/stack/services/objectstore.ts';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise((res) => server.close(res));
  return port;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

// --- PostgreSQL, the run's own --------------------------------------------------------------

export interface PrivatePostgres {
  url: string;
  /** `pg_ctl -m immediate stop`: no checkpoint, clients cut off, as a crash. */
  crash(): void;
  start(): void;
  /** Writes `tables` as CSV files into `dir` (evidence of a failed run, before `destroy`). */
  dump(dir: string, tables: readonly string[]): void;
  /** Stops it, keeps its log in `keepLogAs`, removes its files. */
  destroy(keepLogAs?: string): void;
}

const pgBin = () => {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    const v = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))[0];
    return `/usr/lib/postgresql/${v}/bin`;
  }
};

/**
 * A throwaway cluster (initdb into a temporary directory, a free port, trust auth, fsync off: the
 * suite tests the pipeline, not the disk), as sinks/timescale/testdata/private-postgres.ts does.
 * As root, PostgreSQL runs as the postgres user (initdb refuses root).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const asRoot = process.getuid?.() === 0;
  const ctl = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    execFileSync(file, argv, { stdio: 'pipe' });
  };
  const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-pg-'));
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const bin = pgBin();
  const port = await freePort();
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  ctl(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const start = () => ctl(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  const stop = (mode: 'fast' | 'immediate') => ctl(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', 'stop']);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    crash: () => stop('immediate'),
    start,
    dump(to, tables) {
      mkdirSync(to, { recursive: true });
      for (const t of tables) execFileSync(join(bin, 'psql'), [url, '-X', '-q', '-c', `\\copy ${t} TO '${join(to, `${t}.csv`)}' CSV HEADER`], { stdio: 'pipe' });
    },
    destroy(keepLogAs) {
      try {
        stop('fast');
      } catch {
        // already stopped
      }
      if (keepLogAs && existsSync(log)) copyFileSync(log, keepLogAs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- Mosquitto, the run's own ---------------------------------------------------------------

export interface PrivateBroker {
  url: string;
  /** SIGTERM (Mosquitto saves its sessions and queues), then the same broker again. */
  restart(): Promise<void>;
  destroy(keepLogAs?: string): Promise<void>;
}

const listening = (port: number) => new Promise<boolean>((res) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); res(true); });
  s.once('error', () => res(false));
});

/**
 * Mosquitto from infra/mosquitto/mosquitto.conf (the stack's configuration: persistence, no queue
 * limit), with its own ports and data directory, as connectors/mqtt/testdata/broker.ts `devBroker()`.
 */
export async function startPrivateBroker(root: string): Promise<PrivateBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-mosquitto-'));
  const port = await freePort();
  let wsPort = await freePort();
  while (wsPort === port) wsPort = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const text = readFileSync(join(root, 'infra', 'mosquitto', 'mosquitto.conf'), 'utf8')
    .replaceAll('@DATA@', `${dir}/`).replaceAll('@MQTT_PORT@', String(port)).replaceAll('@WS_PORT@', String(wsPort));
  // As root, Mosquitto would switch to user mosquitto, who cannot write here.
  writeFileSync(conf, `${text}\nuser ${userInfo().username}\n`);
  const log = join(dir, 'mosquitto.log');
  let child: ChildProcess | undefined;
  const start = async () => {
    const out = openSync(log, 'a');
    child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    const c = child;
    await until(`Mosquitto on ${port} (log ${log})`, async () => {
      if (c.exitCode !== null) throw new Error(`Mosquitto exited with ${c.exitCode}; see ${log}`);
      return listening(port);
    }, 15_000);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((res) => c.once('exit', res));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async restart() {
      await stop();
      await start();
    },
    async destroy(keepLogAs) {
      await stop();
      if (keepLogAs && existsSync(log)) copyFileSync(log, keepLogAs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- Kafka, the registry and the object store: the stack's ----------------------------------

const stack = { kafka, registry, objectstore } as const;
type StackName = keyof typeof stack;
const stackNames = Object.keys(stack) as StackName[];
/** Process groups the suite has SIGSTOPped and not yet continued. */
const paused = new Set<number>();

/**
 * Refuses (ConfigError) unless bin/stack started Kafka, the registry and the object store and they
 * answer: the suite kills and restarts them, which it must not do to services someone else runs.
 */
export async function assertStackOwned(): Promise<void> {
  const problems: string[] = [];
  for (const name of stackNames) {
    const up = await stack[name].probe().then(() => true, () => false);
    if (!up) problems.push(`${name} does not answer at ${stack[name].endpoint}`);
    else if (startedPid(name) === undefined) problems.push(`${name} at ${stack[name].endpoint} was not started by bin/stack (no live pid in $SLUICE_HOME/run/${name}.pid), so the suite will not kill or restart it`);
  }
  if (problems.length > 0) throw new ConfigError(`${problems.join('; ')}. The suite needs Kafka, the registry and the object store of bin/stack up`);
}

const pidOf = (name: StackName) => {
  const pid = startedPid(name);
  if (pid === undefined) throw new Error(`${name} is not running (no live pid in $SLUICE_HOME/run/${name}.pid)`);
  return pid;
};

/** Starts a service of the stack and waits until it answers, as `bin/stack up` does. */
async function startService(s: Service): Promise<void> {
  const pid = await s.start();
  await waitUntilAnswers(s.name, () => s.probe(), pid, s.startTimeoutMs);
  await s.prepare?.();
}

/** SIGKILL of Kafka's process group (the JVM gets no chance to close its logs), then Kafka again; resolves once it answers. */
export async function killKafka(): Promise<void> {
  const pid = pidOf('kafka');
  process.kill(-pid, 'SIGKILL');
  await until('the killed Kafka to exit', () => !isAlive(pid), 30_000);
  await startService(kafka);
}

/** SIGSTOP of Kafka's process group for `ms`, then SIGCONT: connections stay open and nothing answers. */
export async function pauseKafka(ms: number): Promise<void> {
  const pid = pidOf('kafka');
  process.kill(-pid, 'SIGSTOP');
  paused.add(pid);
  try {
    await sleep(ms);
  } finally {
    process.kill(-pid, 'SIGCONT');
    paused.delete(pid);
  }
}

/** Stops the registry or the object store (SIGTERM) for `ms`, then starts it; resolves once it answers. */
export async function outage(name: 'registry' | 'objectstore', ms: number): Promise<void> {
  await stack[name].stop();
  try {
    await sleep(ms);
  } finally {
    await startService(stack[name]);
  }
}

/** Continues what is stopped and starts what is down of the stack's services: called whatever happened. */
export async function restoreStack(): Promise<string[]> {
  const done: string[] = [];
  for (const pid of paused) {
    try {
      process.kill(-pid, 'SIGCONT');
    } catch {
      // gone
    }
    paused.delete(pid);
    done.push(`continued process group ${pid}`);
  }
  for (const name of stackNames) {
    if (startedPid(name) !== undefined) continue;
    await startService(stack[name]);
    done.push(`started ${name}`);
  }
  return done;
}

// --- What a run leaves behind ----------------------------------------------------------------

/** Deletes the run's topics, consumer groups, schema subjects and archive objects. */
export async function removeRun(id: string, kafka: KafkaAdapter, stack: Record<string, string>): Promise<void> {
  const n = runNames(id);
  const changelogs = [changelogTopic(n.topology('alerting'), 'alerts'), changelogTopic(n.topology('hourly-aggregates'), 'hourly')];
  await kafka.deleteGroupAndTopics(n.topology('timescale-sink'), [n.readings, n.alerts, n.stats, ...changelogs]);
  for (const t of ['alerting', 'hourly-aggregates', 'archiver']) await kafka.deleteGroupAndTopics(n.topology(t), []);
  for (const topic of [n.readings, n.alerts, n.stats]) {
    const url = `${stack.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(valueSubject(topic))}`;
    await fetch(url, { method: 'DELETE' });
    await fetch(`${url}?permanent=true`, { method: 'DELETE' });
  }
  const archive = destinationOf(loadConfig(archiveSchema, { ...stack, ARCHIVE_PREFIX: id }));
  for (const key of await archive.list(`${id}/`)) await archive.delete(key);
}

