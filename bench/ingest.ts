// MQTT ingest: QoS 1 throughput of the connector (PUBACK only after Kafka acks=all) against a bare
// MQTT.js subscriber that only counts, draining the same burst from the same private Mosquitto
// (infra/mosquitto/mosquitto.conf) in one run; then p99 publish→Kafka latency at half the
// connector's rate, and the connector's peak RSS. The connector runs as `bin/run-topology ingest`.
// Both clocks start at the subscriber's MQTT.js 'connect' event (the connector logs its time), so
// neither counts process start-up and both count the session resume; the connector's stops at the
// broker's append time of the burst's last record.
// Usage: eval "$(bin/stack env)"; bin/node bench/ingest.ts [messages=100000] [rounds=3]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { RegistryClient } from '../core/serde/registry.ts';
import { readSchema } from '../core/serde/avro.ts';
import { benchLock, median } from './lib.ts';

benchLock('ingest');

const n = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const root = join(import.meta.dirname, '..');
const id = `bench-ingest-${Date.now()}`;
const env = process.env;
const kafka = new Kafka({ brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.ERROR });
await new RegistryClient(env.SCHEMA_REGISTRY_URL!).register(`${id}-value`, readSchema('sensor-readings'));
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: id, numPartitions: 6, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }], waitForLeaders: true });

// A private broker with the development config (large queue), on a free port.
const port = await new Promise<number>((res) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => res(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-mosquitto-'));
const conf = readFileSync(join(root, 'infra', 'mosquitto', 'mosquitto.conf'), 'utf8')
  .replace('@DATA@', `${dir}/`).replace(/^listener 1883 127\.0\.0\.1$/m, `listener ${port} 127.0.0.1`);
writeFileSync(join(dir, 'mosquitto.conf'), `${conf}\nuser ${userInfo().username}\nlog_type error\n`);
const broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
const url = `mqtt://127.0.0.1:${port}`;
await sleep(1000);

const topicOf = (i: number) => `${id}/dev-${i % 100}/temperature`;
async function publish(count: number, payload: (i: number) => string, rate = Infinity): Promise<void> {
  const pub = await mqtt.connectAsync(url, { clientId: `${id}-pub`, reconnectPeriod: 0 });
  const start = performance.now();
  let outstanding = 0;
  for (let i = 0; i < count; i++) {
    while (outstanding >= 2000 || i > ((performance.now() - start) / 1000) * rate) await sleep(outstanding >= 2000 ? 1 : 2);
    outstanding++;
    pub.publish(topicOf(i), payload(i), { qos: 1 }, () => outstanding--);
  }
  while (outstanding > 0) await sleep(5);
  await pub.endAsync();
}
/** A drain's duration, and the CPU time its subscriber's process used meanwhile. */
interface Drain { seconds: number; cpuSeconds: number }
/** CPU seconds a process has used (Linux). */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [utime, stime] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number);
  return (utime! + stime!) / 100; // USER_HZ
}
const session = { clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 0 };

// Baseline: a bare subscriber drains the queued burst, PUBACKing each message as MQTT.js does.
async function bare(): Promise<Drain> {
  const clientId = `${id}-bare`;
  const first = await mqtt.connectAsync(url, { clientId, ...session });
  await first.subscribeAsync(`${id}/+/+`, { qos: 1 });
  await first.endAsync();
  await publish(n, (i) => String(i % 50));
  let count = 0;
  let start = 0;
  let cpu = process.cpuUsage();
  const done = new Promise<void>((res) => {
    const sub = mqtt.connect(url, { clientId, ...session });
    sub.on('connect', () => {
      start = Date.now();
      cpu = process.cpuUsage();
    });
    sub.on('message', () => {
      if (++count === n) res(void sub.end());
    });
  });
  await done;
  const used = process.cpuUsage(cpu);
  return { seconds: (Date.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

interface Connector { child: ChildProcess; connectedAt: number; cpuAtConnect: number }
async function startConnector(label: string): Promise<Connector> {
  const child = spawn(join(root, 'bin', 'run-topology'), ['ingest'], {
    env: { ...env, SLUICE_OPS_PORT: '0', SLUICE_LOG_LEVEL: 'info', INGEST_TOPIC: id, MQTT_CLIENT_ID: `${id}-ingest`, MQTT_BROKER: url, MQTT_TOPIC_TEMPLATE: `${id}/{device_id}/{sensor_type}`, MQTT_SESSION_EXPIRY_S: '600' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  // Its CPU time every 5 ms until it has started, to know what it had used at connect: a drain starts
  // then, before the connector logs that it started, and start-up alone takes seconds of CPU.
  const cpu: [number, number][] = [];
  const sampler = setInterval(() => cpu.push([Date.now(), cpuOf(child.pid!)]), 5);
  try {
    for (;;) {
      const started = /"msg":"started"/.test(out);
      // The time (epoch ms) of its MQTT.js 'connect' event, the moment the bare subscriber's clock starts.
      const connected = /"time":"([^"]+)",[^\n]*"msg":"connected to the MQTT broker"/.exec(out);
      if (started && connected) {
        const connectedAt = Date.parse(connected[1]!);
        return { child, connectedAt, cpuAtConnect: cpu.findLast(([t]) => t <= connectedAt)?.[1] ?? 0 };
      }
      if (child.exitCode !== null) throw new Error(`connector ${label} exited: ${out}`);
      await sleep(20);
    }
  } finally {
    clearInterval(sampler);
  }
}
let peakRss = 0;
const stopConnector = async (c: Connector) => {
  // The kernel's high-water mark of the connector's resident set: its true peak, read at no cost to it.
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.child.pid}/status`, 'utf8'));
  peakRss = Math.max(peakRss, Number(hwm?.[1] ?? 0) * 1024);
  const exited = new Promise((res) => c.child.once('exit', res));
  c.child.kill('SIGTERM');
  await exited;
};
const inKafka = async () => (await admin.fetchTopicOffsets(id)).reduce((s, p) => s + Number(p.high), 0);
/** Waits, polling every 100 ms, until Kafka holds `total` records of the topic. */
async function waitOut(total: number): Promise<void> {
  while ((await inKafka()) < total) await sleep(100);
}
/**
 * The broker's append time of the topic's newest record (the topic keeps LogAppendTime), found by
 * bisecting ListOffsets by time: the connector's clock stops there, to the millisecond, however
 * rarely the bench polls. Polling every 5 ms took a fifth of a core from the two that the connector,
 * Mosquitto and Kafka share, a cost the bare subscriber's in-process count does not have.
 */
async function lastAppendTime(from: number): Promise<number> {
  const high = new Map((await admin.fetchTopicOffsets(id)).map((p) => [p.partition, Number(p.high)]));
  const exists = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp(id, ts)).some((p) => Number(p.offset) < high.get(p.partition)!);
  let [lo, hi] = [from, Date.now() + 1];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await exists(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

// The connector drains the same burst, written to Kafka before each PUBACK.
async function connector(): Promise<Drain> {
  const first = await startConnector('session'); // creates the persistent session (and the topic)
  await stopConnector(first);
  await publish(n, (i) => String(i % 50));
  const before = await inKafka();
  const c = await startConnector('drain');
  await waitOut(before + n);
  const cpuSeconds = cpuOf(c.child.pid!) - c.cpuAtConnect;
  const seconds = ((await lastAppendTime(c.connectedAt)) - c.connectedAt) / 1000;
  await stopConnector(c);
  return { seconds, cpuSeconds };
}

// Latency: publish at `rate` with the publish time in the payload; a consumer reads the topic.
async function latency(rate: number, count: number): Promise<number[]> {
  const c = await startConnector('latency');
  const consumer = kafka.consumer({ groupId: `${id}-latency`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: id, fromBeginning: false });
  const lat: number[] = [];
  const { AvroSerde } = await import('../core/serde/avro.ts');
  const serde = new AvroSerde<{ time: number }>(new RegistryClient(env.SCHEMA_REGISTRY_URL!), `${id}-value`, readSchema('sensor-readings'));
  await serde.init();
  await consumer.run({ eachMessage: async ({ message }) => void lat.push(Date.now() - serde.decode(message.value).time) });
  await sleep(3000); // the consumer joins its group before the publishing starts
  await publish(count, () => JSON.stringify({ value: 21.5, time: Date.now() }), rate);
  while (lat.length < count) await sleep(50);
  await consumer.disconnect();
  await stopConnector(c);
  return lat.sort((a, b) => a - b);
}

try {
  // A drain lasts about a second: single runs vary by a third on a shared 2-core machine, so the two
  // take turns and their medians are compared.
  console.log(`QoS 1 drain of ${n} queued messages, same broker, ${rounds} rounds taking turns:`);
  const bares: Drain[] = [];
  const ingests: Drain[] = [];
  const µs = (d: Drain) => ((d.cpuSeconds / n) * 1e6).toFixed(1);
  for (let r = 1; r <= rounds; r++) {
    const [b, c] = [await bare(), await connector()];
    bares.push(b);
    ingests.push(c);
    console.log(`  round ${r}: bare ${(n / b.seconds).toFixed(0)} msg/s (${µs(b)} µs CPU/msg), connector ${(n / c.seconds).toFixed(0)} msg/s (${µs(c)} µs CPU/msg)`);
  }
  const [bareRate, ingestRate] = [median(bares.map((d) => n / d.seconds)), median(ingests.map((d) => n / d.seconds))];
  const cpu = (ds: Drain[]) => ((median(ds.map((d) => d.cpuSeconds)) / n) * 1e6).toFixed(1);
  console.log(`  bare MQTT.js subscriber (count only): ${bareRate.toFixed(0)} msg/s, ${cpu(bares)} µs CPU/msg (medians)`);
  console.log(`  ingest connector (Avro, Kafka acks=all, then PUBACK): ${ingestRate.toFixed(0)} msg/s, ${cpu(ingests)} µs CPU/msg (medians)`);
  console.log(`  ratio ingest/bare: ${(ingestRate / bareRate).toFixed(2)} (target >= 0.7)`);
  const rate = Math.floor(ingestRate / 2);
  const lat = await latency(rate, Math.min(rate * 10, n));
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  console.log(`publish→Kafka (consumer sees it) at ${rate} msg/s, ${lat.length} messages: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat.at(-1)} ms`);
  console.log(`connector peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
} finally {
  broker.kill('SIGTERM');
  await admin.disconnect();
}
