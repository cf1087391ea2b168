// One run of the whole pipeline, as bin/fault-suite and bench/overload.ts make it: every stage its own
// process (faults/pipeline.ts) against the stack's Kafka, registry and object store, with a private
// PostgreSQL and Mosquitto, the run's own topics and groups, simulated devices logging every message;
// everything of the run removed at the end when it passed, kept for a look when it did not.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectKafka, type KafkaAdapter } from '../core/kafka/adapter.ts';
import { createLogger } from '../core/log.ts';
import { DLQ_TOPIC, valueSubject } from '../core/naming.ts';
import { RegistryClient } from '../core/serde/registry.ts';
import { readSchema } from '../core/serde/avro.ts';
import { stackEnv } from '../infra/stack/settings.ts';
import { Pipeline, within } from './pipeline.ts';
import { pipelineShape } from './schedule.ts';
import { assertStackOwned, removeRun, restoreStack, startPrivateBroker, startPrivatePostgres, type PrivateBroker, type PrivatePostgres } from './services.ts';
import { runNames } from './topologies.ts';

type Env = Record<string, string | undefined>;
export type Note = (line: string) => void;
/** A row of a run's table; `ok` '' for a figure that is not judged. */
export type Row = { check: string; expected: string; found: string; ok: boolean | '' };

const stamp = (d: Date) => d.toISOString().replace(/\D/g, '').slice(0, 14);

/** What every process of the run gets: the stack's Kafka, registry and object store, the run's own database, broker and names. */
function runEnv(stack: Record<string, string>, id: string, pgUrl: string, mqttUrl: string): Env {
  const names = runNames(id);
  return {
    KAFKA_BROKERS: stack.KAFKA_BROKERS, SCHEMA_REGISTRY_URL: stack.SCHEMA_REGISTRY_URL,
    S3_ENDPOINT: stack.S3_ENDPOINT, S3_BUCKET: stack.S3_BUCKET, S3_REGION: stack.S3_REGION, S3_FORCE_PATH_STYLE: stack.S3_FORCE_PATH_STYLE,
    S3_ACCESS_KEY_ID: stack.S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: stack.S3_SECRET_ACCESS_KEY,
    TIMESCALE_URL: pgUrl, MQTT_BROKER: mqttUrl, MQTT_WS_URL: undefined, MQTT_TOPIC_FILTER: undefined, MQTT_SHARE_GROUP: undefined,
    SLUICE_FAULTS_ID: id, INGEST_TOPIC: names.readings, MQTT_CLIENT_ID: `${id}-ingest`, MQTT_TOPIC_TEMPLATE: `${id}/{device_id}/{sensor_type}`,
    // A SIGSTOP of 15 s outlasts the session: the paused instance's partitions move to the other.
    SLUICE_SESSION_TIMEOUT_MS: '10000', ALERT_CLEAR_AFTER_MS: '5000',
    // Readings never pause for ARCHIVE_IDLE_MS while the devices run: files close on their row count
    // too, so that uploads (and the archive.upload fault point) happen during a short run.
    ARCHIVE_PREFIX: id, ARCHIVE_IDLE_MS: '5000', ARCHIVE_MAX_ROWS: '1000',
    // Nothing of the caller's environment that would change what is tested.
    SLUICE_FAULT: undefined, HOURLY_IDLE_MS: undefined, HOURLY_GRACE_MS: undefined, SLUICE_OPS_PORT: undefined,
  };
}

/** Tables, schema subjects and topics of the run; returns sluice.dlq's end offsets, where the run's dead letters start. */
async function prepare(root: string, runDir: string, env: Env, kafka: KafkaAdapter): Promise<Map<number, string>> {
  const schema = spawnSync(join(root, 'bin', 'timescale-schema'), [], { env: { ...process.env, TIMESCALE_URL: env.TIMESCALE_URL }, encoding: 'utf8' });
  appendFileSync(join(runDir, 'setup.log'), `${schema.stdout}${schema.stderr}`);
  if (schema.status !== 0) throw new Error(`bin/timescale-schema failed; see ${runDir}/setup.log`);
  const names = runNames(env.SLUICE_FAULTS_ID!);
  const registry = new RegistryClient(env.SCHEMA_REGISTRY_URL!);
  for (const [topic, s] of [[names.readings, 'sensor-readings'], [names.alerts, 'alerts'], [names.stats, 'sensor-stats-hourly']] as const) {
    await registry.register(valueSubject(topic), readSchema(s));
  }
  await kafka.ensureTopics([names.readings, names.alerts, names.stats, DLQ_TOPIC].map((topic) => ({ topic, partitions: 6 })));
  return new Map((await kafka.watermarks(DLQ_TOPIC)).map((w) => [w.partition, w.high]));
}

export interface Devices {
  log: string;
  started: number;
  /** SIGTERM (the simulator prints its summary); resolves when they have exited. */
  stop(): Promise<void>;
  running(): boolean;
}

/** What the devices do: readings per second, for how long, and how many bad messages and anomaly episodes among them. */
export interface DeviceOptions { rate: number; durationS: number; bad: number; episodes: number }

/** bin/simulate-devices: 20 devices, half JSON and half bare readings, bad messages and anomaly episodes, every message logged. */
function startDevices(root: string, runDir: string, d: DeviceOptions, id: string, broker: string, note: Note): Devices {
  const log = join(runDir, 'sim.jsonl');
  const out = openSync(join(runDir, 'sim.log'), 'a');
  const args = ['--format', 'mixed', '--devices', '20', '--rate', String(d.rate), '--duration', String(d.durationS), '--log', log,
    '--bad', String(d.bad), '--episodes', String(d.episodes), '--prefix', id, '--broker', broker];
  const started = Date.now();
  const child = spawn(join(root, 'bin', 'simulate-devices'), args, { env: { ...process.env, MQTT_BROKER: broker }, stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  note(`devices publishing ${d.rate}/s: bin/simulate-devices ${args.join(' ')}`);
  return {
    log,
    started,
    running: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode === null) note('stopping the devices (SIGTERM)');
      child.kill('SIGTERM');
      note(`devices stopped (exit ${await within(120_000, exited)})`);
    },
  };
}

/** What a run's body gets: the run's names, services, the pipeline (every instance started) and its devices. */
export interface Run {
  id: string;
  names: ReturnType<typeof runNames>;
  runDir: string;
  started: number;
  note: Note;
  stack: Record<string, string>;
  brokers: string[];
  env: Env;
  pgsql: PrivatePostgres;
  mqtt: PrivateBroker;
  kafka: KafkaAdapter;
  pipeline: Pipeline;
  /** sluice.dlq's end offsets before the run: its dead letters start there. */
  dlqFrom: Map<number, string>;
  /** Starts the devices (once); they are stopped at the end whatever happened. */
  startDevices(d: DeviceOptions): Devices;
}

export interface RunOptions {
  /** `faults` or `overload`: the run id is `<kind>-<yyyymmddhhmmss>`, its logs in $SLUICE_HOME/logs/<kind>/<id>/. */
  kind: string;
  runDir?: string;
  /** Keep the run's topics, groups, subjects and archive even when it passed. */
  keep: boolean;
  /** The run kills and stops the stack's services: only those bin/stack up started; they are always left running. */
  disruptsStack: boolean;
  /** Lines for the log before anything starts (the plan). */
  header?: (id: string, runDir: string) => string[];
}

/** Sets a run up, calls `body` (true: it passed), and cleans up whatever happened; returns what `body` did. */
export async function withRun(o: RunOptions, body: (run: Run) => Promise<boolean>): Promise<boolean> {
  const root = resolve(import.meta.dirname, '..');
  const started = Date.now();
  const id = `${o.kind}-${stamp(new Date(started))}`;
  const names = runNames(id);
  const home = process.env.SLUICE_HOME ?? join(homedir(), '.cache', 'sluice');
  const runDir = resolve(o.runDir ?? join(home, 'logs', o.kind, id));
  mkdirSync(runDir, { recursive: true });
  const note: Note = (line) => {
    const t = Math.round((Date.now() - started) / 1000);
    console.log(`[${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}] ${line}`);
    appendFileSync(join(runDir, 'suite.log'), `${new Date().toISOString()} ${line}\n`);
  };
  for (const line of o.header?.(id, runDir) ?? []) note(line);
  if (o.disruptsStack) await assertStackOwned();

  const stack = stackEnv();
  const brokers = stack.KAFKA_BROKERS!.split(',');
  let pgsql: PrivatePostgres | undefined;
  let mqtt: PrivateBroker | undefined;
  let kafka: KafkaAdapter | undefined;
  let pipeline: Pipeline | undefined;
  let devices: Devices | undefined;
  let ok = false;
  try {
    pgsql = await startPrivatePostgres();
    mqtt = await startPrivateBroker(root);
    note(`private PostgreSQL ${pgsql.url}, private Mosquitto ${mqtt.url}`);
    const env = runEnv(stack, id, pgsql.url, mqtt.url);
    kafka = await connectKafka(brokers, `${id}-suite`, createLogger('fault-suite', 'silent', 'stderr'));
    const dlqFrom = await prepare(root, runDir, env, kafka);
    pipeline = new Pipeline({ root, runDir, env, nameOf: names.topology, note });
    for (const { topology, instances } of pipelineShape) for (let i = 0; i < instances; i++) await pipeline.add(topology);
    const broker = mqtt.url;
    ok = await body({
      id, names, runDir, started, note, stack, brokers, env, pgsql, mqtt, kafka, pipeline, dlqFrom,
      startDevices: (d) => {
        if (devices) throw new Error('the devices were started already');
        devices = startDevices(root, runDir, d, id, broker, note);
        return devices;
      },
    });
    return ok;
  } finally {
    if (devices?.running()) await devices.stop();
    // The stack first: processes stopped while Kafka is down could not commit what they drained.
    if (o.disruptsStack) for (const done of await restoreStack()) note(`stack: ${done}`);
    await pipeline?.stopAll();
    pgsql?.destroy(join(runDir, 'postgres.log'));
    await mqtt?.destroy(join(runDir, 'mosquitto.log'));
    if (kafka) {
      if (ok && !o.keep) await removeRun(id, kafka, stack).then(() => note(`removed the run's topics, groups, subjects and archive`), (err: Error) => note(`could not remove the run's topics: ${err.message}`));
      else note(`kept: Kafka topics ${names.readings}, ${names.alerts}, ${names.stats} and the changelogs of ${id}-*, subjects <topic>-value, archive s3://${stack.S3_BUCKET}/${id}/`);
      await kafka.close().catch(() => undefined);
    }
  }
}

/** Peak RSS and restarts of each topology's processes. */
export function processRows(p: Pipeline): Row[] {
  return [
    ...pipelineShape.map(({ topology }) => ({ check: `peak RSS ${topology}`, expected: '', found: `${Math.round((p.peakRssKiB.get(topology) ?? 0) / 1024)} MiB`, ok: '' as const })),
    ...pipelineShape.map(({ topology }) => ({ check: `restarts ${topology}`, expected: '', found: restartsOf(p.restarts.get(topology) ?? []), ok: '' as const })),
  ];
}

function restartsOf(reasons: string[]): string {
  if (reasons.length === 0) return '0';
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return `${reasons.length} (${[...counts].map(([r, n]) => `${r} ×${n}`).join(', ')})`;
}

