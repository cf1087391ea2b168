// Keyed hourly aggregation (count, sum, min, max, avg per device and UTC hour, emit-final):
//  1. through the in-memory test driver, 10k and 100k distinct keys (target >= 300k records/s);
//  2. through Kafka, against the pass-through topology on the same pre-filled topic (target >= 0.8x).
// Each case runs in its own process, so peak RSS is that case's.
// Usage: eval "$(bin/stack env)"; bin/node bench/windowed.ts [kafka records=200000] [driver records=1000000]
import { spawnSync } from 'node:child_process';
import { map } from 'rxjs';
import { pino } from 'pino';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { defineTopology, kafkaSink, windowedAggregate, TimeWindows, hours, minutes, type InRecord, type Topology } from '../core/index.ts';
import { TopologyTestDriver } from '../core/testing/index.ts';
import { startTopology } from '../core/runtime/run.ts';
import { loadConfig } from '../core/config.ts';
import { runtimeSchema } from '../core/runtime/config.ts';
import { RegistryClient } from '../core/serde/registry.ts';
import { AvroSerde, readSchema } from '../core/serde/avro.ts';

import type { Reading } from '../topologies/reading.ts';
interface Stats { count: number; sum: number; min: number; max: number }
const T0 = Date.UTC(2026, 10, 20);
const SPAN = hours(24); // event times of a run spread over one day
const reading = (i: number, n: number, keys: number): Reading => {
  const time = T0 + Math.floor((i * SPAN) / n);
  return { device_id: `dev-${i % keys}`, sensor_type: 'temperature', value: 20 + (i % 17), unit: '°C', time, ingest_time: time };
};

function hourly(name: string, source: string, out: string): Topology<Reading> {
  return defineTopology<Reading>({
    name, description: 'benchmark hourly aggregation', source: { topic: source, schema: 'sensor-readings' },
    pipeline: (src) => src.pipe(
      windowedAggregate<Reading, Stats>({
        store: 'hourly', window: TimeWindows.tumbling({ size: hours(1), grace: minutes(10) }),
        initial: () => ({ count: 0, sum: 0, min: Infinity, max: -Infinity }),
        add: (s, r) => ({ count: s.count + 1, sum: s.sum + r.value.value, min: Math.min(s.min, r.value.value), max: Math.max(s.max, r.value.value) }),
        emit: 'final', buffer: { maxWindows: 1_000_000, whenFull: 'fail' },
      }),
      map((w) => ({ to: 'out', key: w.key, value: { device_id: w.key, sensor_type: 'temperature', value: w.value.sum / w.value.count, unit: '°C', time: w.start, ingest_time: w.end } })),
    ),
    sinks: { out: kafkaSink({ topic: out, schema: 'sensor-readings' }) },
  });
}

const mode = process.argv[2];
if (mode === 'driver') {
  const [keys, n] = [Number(process.argv[3]), Number(process.argv[4])];
  const driver = new TopologyTestDriver(hourly('bench-driver', 'in', 'out'), { wallClock: T0 + SPAN, partitions: 6 });
  const batch = 5000;
  const inputs = Array.from({ length: batch }, () => ({ key: '', value: undefined as unknown as Reading }));
  const start = performance.now();
  for (let i = 0; i < n; i += batch) {
    for (let j = 0; j < batch; j++) {
      const r = reading(i + j, n, keys);
      inputs[j] = { key: r.device_id, value: r };
    }
    driver.pipe(...inputs);
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ rate: n / seconds, rssMiB: process.resourceUsage().maxRSS / 1024, results: driver.output('out').length }));
} else if (mode === 'kafka') {
  const [kind, input, n] = [process.argv[3]!, process.argv[4]!, Number(process.argv[5])];
  const cfg = loadConfig(runtimeSchema, { ...process.env, SLUICE_OPS_PORT: '0' });
  const name = `${input.replace(/\.in$/, '')}-${kind}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const topology = kind === 'aggregate' ? hourly(name, input, `${input}.agg`) : defineTopology<Reading>({
    name, description: 'benchmark pass-through', source: { topic: input, schema: 'sensor-readings' },
    pipeline: map((r: InRecord<Reading>) => ({ to: 'out', key: r.key, value: r.value })),
    sinks: { out: kafkaSink({ topic: `${input}.copy`, schema: 'sensor-readings' }) },
  });
  const admin = new Kafka({ brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const running = await startTopology(topology, cfg, pino({ level: 'warn' }));
  const start = performance.now();
  // Done when the group has committed every input record.
  for (;;) {
    const [row] = await admin.fetchOffsets({ groupId: name, topics: [input] });
    if ((row?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0) >= n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - start) / 1000;
  await running.stop();
  await admin.disconnect();
  console.log(JSON.stringify({ rate: n / seconds, rssMiB: process.resourceUsage().maxRSS / 1024 }));
} else {
  const [kafkaN, driverN] = [Number(process.argv[2] ?? 200_000), Number(process.argv[3] ?? 1_000_000)];
  const child = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', import.meta.filename, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`bench ${args.join(' ')} exited with ${r.status}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rate: number; rssMiB: number };
  };
  const row = (label: string, r: { rate: number; rssMiB: number }) => console.log(`${label.padEnd(40)} ${r.rate.toFixed(0).padStart(9)} records/s   peak RSS ${r.rssMiB.toFixed(0).padStart(5)} MiB`);

  for (const keys of [10_000, 100_000]) row(`test driver, ${keys / 1000}k keys, ${driverN} records`, child('driver', String(keys), String(driverN)));

  const cfg = loadConfig(runtimeSchema, process.env);
  const kafka = new Kafka({ brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  const registry = new RegistryClient(cfg.SCHEMA_REGISTRY_URL);
  const schema = readSchema('sensor-readings');
  const results: Record<string, { rate: number; rssMiB: number }> = {};
  for (const keys of [10_000, 100_000]) {
    const input = `bench-win-${Date.now()}-${keys}.in`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 6 }], waitForLeaders: true });
    for (const t of [input, `${input}.copy`, `${input}.agg`]) await registry.register(`${t}-value`, schema);
    const serde = new AvroSerde<Reading>(registry, `${input}-value`, schema);
    await serde.init();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < kafkaN; i += 10_000) {
      const messages = Array.from({ length: Math.min(10_000, kafkaN - i) }, (_, j) => {
        const r = reading(i + j, kafkaN, keys);
        return { key: r.device_id, value: serde.encode(r) };
      });
      await producer.sendBatch({ topicMessages: [{ topic: input, messages }] });
    }
    await producer.disconnect();
    for (const kind of ['passthrough', 'aggregate']) row(`kafka ${kind}, ${keys / 1000}k keys, ${kafkaN} records`, (results[`${kind}-${keys}`] = child('kafka', kind, input, String(kafkaN))));
    console.log(`ratio aggregate/pass-through, ${keys / 1000}k keys: ${(results[`aggregate-${keys}`]!.rate / results[`passthrough-${keys}`]!.rate).toFixed(2)} (target >= 0.80)`);
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(input.replace(/\.in$/, '')));
    await admin.deleteTopics({ topics });
    await admin.disconnect();
  }
}
