// Helpers for the MQTT connector's integration tests: run `bin/run-topology ingest` with a test's
// own Kafka topic, MQTT client id and topic prefix, read its metrics, publish and read back.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import mqtt, { type IClientOptions } from 'mqtt';
import { readAll, registerReadings, waitFor, type Instance, type ReadBack } from '../../../core/runtime/testdata/harness.ts';

const root = join(__dirname, '..', '..', '..');
export const sharedBroker = process.env.MQTT_BROKER ?? 'mqtt://127.0.0.1:1883';

export interface IngestTest {
  id: string;
  topic: string;
  prefix: string;
  env: Record<string, string>;
}

/** A unique Kafka topic (schema registered) and MQTT prefix and client id for one test. */
export async function newIngestTest(tag: string, broker = sharedBroker): Promise<IngestTest & { serde: Awaited<ReturnType<typeof registerReadings>> }> {
  const id = `ingest-${tag}-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const serde = await registerReadings(id);
  const env = {
    INGEST_TOPIC: id, MQTT_CLIENT_ID: id, MQTT_TOPIC_TEMPLATE: `${id}/{device_id}/{sensor_type}`,
    MQTT_SESSION_EXPIRY_S: '600', MQTT_BROKER: broker,
  };
  return { id, topic: id, prefix: id, env, serde };
}

export interface Ingest extends Instance {
  /** Resolves with the ops port once the connector logged that it started. */
  started(): Promise<number>;
}

export function startIngest(t: IngestTest, label: string, extraEnv: Record<string, string> = {}): Ingest {
  const log = join(tmpdir(), `${t.id}-${label}.log`);
  const child = spawn(join(root, 'bin', 'run-topology'), ['ingest'], {
    env: { ...process.env, SLUICE_OPS_PORT: '0', ...t.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(log);
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const started = () => waitFor(`${label} to start (log ${log})`, async () => {
    const m = existsSync(log) ? /"opsPort":(\d+),"msg":"started"/.exec(readFileSync(log, 'utf8')) : null;
    return m ? Number(m[1]) : undefined;
  });
  return { child, exited, log, started };
}

/** Sum of a Prometheus metric's samples whose labels contain `labels` (e.g. `reason="empty"`). */
export async function metric(port: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

/** Publishes each message with QoS 1 and returns the indexes the broker acknowledged. */
export async function publishAll(url: string, opts: IClientOptions, messages: { topic: string; payload: string | Buffer }[], parallel = 200): Promise<number[]> {
  const client = await mqtt.connectAsync(url, { clientId: `pub-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0, ...opts });
  const acked: number[] = [];
  try {
    for (let i = 0; i < messages.length; i += parallel) {
      await Promise.all(messages.slice(i, i + parallel).map(async (m, j) => {
        await client.publishAsync(m.topic, m.payload, { qos: 1 });
        acked.push(i + j);
      }));
    }
  } finally {
    await client.endAsync();
  }
  return acked.sort((a, b) => a - b);
}

/** Reads `topic` from the beginning and keeps the records `keep` accepts, until there are `count`. */
export const readWhere = (topic: string, keep: (r: ReadBack) => boolean, count: number, client?: Kafka) => readAll(topic, count, 90_000, { keep, client });
