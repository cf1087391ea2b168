// Shared by the benchmarks: pre-filling a topic, draining it with a topology, running a case in its own process.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { map } from 'rxjs';
import { pino } from 'pino';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { defineTopology, kafkaSink, type InRecord, type Topology } from '../core/index.ts';
import { startTopology } from '../core/runtime/run.ts';
import { loadConfig } from '../core/config.ts';
import { runtimeSchema } from '../core/runtime/runtime-settings.ts';
import { RegistryClient } from '../core/serde/registry.ts';
import { AvroSerde, readSchema } from '../core/serde/avro.ts';
import type { Reading } from '../schemas/records.ts';

/**
 * Benchmarks run one at a time on a quiet machine: holds $SLUICE_HOME/bench.lock until the process
 * exits, and refuses while a live benchmark holds it. Its child processes (inChild) inherit the hold.
 */
export function benchLock(name: string): void {
  if (process.env.SLUICE_BENCH_LOCK === String(process.ppid)) return;
  const file = join(process.env.SLUICE_HOME ?? join(homedir(), '.cache', 'sluice'), 'bench.lock');
  for (;;) {
    try {
      writeFileSync(file, `${process.pid} ${name}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [pid, holder] = readFileSync(file, 'utf8').trim().split(' ');
      if (alive(Number(pid))) {
        console.error(`bench ${name}: benchmark ${holder} (pid ${pid}) is running; benchmarks run one at a time (${file})`);
        process.exit(2);
      }
      rmSync(file, { force: true }); // left by one that died
    }
  }
  process.env.SLUICE_BENCH_LOCK = String(process.pid);
  process.on('exit', () => rmSync(file, { force: true }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface CaseResult { rate: number; rssMiB: number }

export const benchConfig = () => loadConfig(runtimeSchema, { ...process.env, SLUICE_OPS_PORT: '0' });

/** Creates `input` and fills it with `n` readings from `reading(i)`; registers its subject and the `schemas` given (topic → schema). */
export async function prefill(input: string, n: number, reading: (i: number) => Reading, schemas: Record<string, string> = {}, partitions = 6): Promise<void> {
  const cfg = benchConfig();
  const kafka = new Kafka({ brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  const registry = new RegistryClient(cfg.SCHEMA_REGISTRY_URL);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: input, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  for (const [topic, schema] of Object.entries({ [input]: 'sensor-readings', ...schemas })) await registry.register(`${topic}-value`, readSchema(schema));
  const serde = new AvroSerde<Reading>(registry, `${input}-value`, readSchema('sensor-readings'));
  await serde.init();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < n; i += 10_000) {
    const messages = Array.from({ length: Math.min(10_000, n - i) }, (_, j) => {
      const r = reading(i + j);
      return { key: r.device_id, value: serde.encode(r) };
    });
    await producer.sendBatch({ topicMessages: [{ topic: input, messages }] });
  }
  await producer.disconnect();
}

/** Runs `topology` until its group has committed `n` records of its source; prints the rate and peak RSS as JSON. */
export async function drain(topology: Topology<any>, n: number): Promise<void> {
  const cfg = benchConfig();
  const admin = new Kafka({ brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const running = await startTopology(topology, cfg, pino({ level: 'warn' }));
  const start = performance.now();
  for (;;) {
    const [row] = await admin.fetchOffsets({ groupId: topology.name, topics: [topology.source.topic] });
    if ((row?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0) >= n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - start) / 1000;
  await running.stop();
  await admin.disconnect();
  console.log(JSON.stringify({ rate: n / seconds, rssMiB: process.resourceUsage().maxRSS / 1024 } satisfies CaseResult));
}

/** Runs this benchmark file again with `args` in a child process and returns the JSON it printed last. */
export function inChild<T = CaseResult>(file: string, ...args: string[]): T {
  // The V8 flags bin/run-topology gives every topology.
  const flags = ['--disable-warning=TimeoutNegativeWarning', '--max-semi-space-size=32'];
  const r = spawnSync(process.execPath, [...flags, file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench ${args.join(' ')} exited with ${r.status}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

/** The middle value (the upper one of an even count). */
export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export const row = (label: string, r: CaseResult) =>
  console.log(`${label.padEnd(44)} ${r.rate.toFixed(0).padStart(9)} records/s   peak RSS ${r.rssMiB.toFixed(0).padStart(5)} MiB`);

/** The baseline of the topology benchmarks: `input` copied to `output` unchanged (decode, map, encode, produce). */
export const passthrough = (name: string, input: string, output = `${input}.copy`): Topology<Reading> => defineTopology<Reading>({
  name, description: 'benchmark pass-through', source: { topic: input, schema: 'sensor-readings' },
  pipeline: map((r: InRecord<Reading>) => ({ to: 'out', key: r.key, value: r.value })),
  sinks: { out: kafkaSink({ topic: output, schema: 'sensor-readings' }) },
});
