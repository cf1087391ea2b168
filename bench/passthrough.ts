// Pass-through throughput: Sluice (decode Avro → map → encode → produce, commit after durable)
// against a bare kafkajs consume-and-produce loop, on the same pre-filled topic, in one run.
// Usage: eval "$(bin/stack env)"; bin/node bench/passthrough.ts [records=200000] [rounds=3]
// The two take turns `rounds` times, each on an output topic of its own; medians are compared.
import { pino } from 'pino';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startTopology } from '../core/runtime/run.ts';
import { benchLock, benchConfig, median, passthrough, prefill } from './lib.ts';

benchLock('passthrough');

const n = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);
const cfg = benchConfig();
const kafka = new Kafka({ brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();
const id = `bench-${Date.now()}`;
const input = `${id}.in`;
const outputs = Array.from({ length: rounds }, (_, r) => [`${id}.bare-out-${r}`, `${id}.sluice-out-${r}`] as const);
await admin.createTopics({ topics: outputs.flat().map((topic) => ({ topic, numPartitions: 6 })), waitForLeaders: true });
const t0 = 1_790_000_000_000;
await prefill(input, n, (i) => ({ device_id: `dev-${i % 1000}`, sensor_type: 'temperature', value: 21.5, unit: '°C', time: t0 + i, ingest_time: t0 + i }),
  Object.fromEntries(outputs.map(([, sluiceOut]) => [sluiceOut, 'sensor-readings'])));
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
console.log(`pre-filled ${input} with ${n} records; ${rounds} rounds, the bare loop and Sluice taking turns`);

async function outputCount(topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
}
async function timeUntil(topic: string): Promise<number> {
  const start = performance.now();
  while ((await outputCount(topic)) < n) await new Promise((r) => setTimeout(r, 50));
  return (performance.now() - start) / 1000;
}

// Baseline: the loop people hand-roll — one sendBatch per fetched batch, commit after it.
// Same fetch sizes as Sluice's adapter; a smaller fetch keeps one batch's output under the broker's 1 MiB request limit.
async function bareLoop(round: number, output: string): Promise<number> {
  const bare = kafka.consumer({ groupId: `${id}-bare-${round}`, maxBytesPerPartition: 512 << 10, maxBytes: 8 << 20 });
  await bare.connect();
  await bare.subscribe({ topic: input, fromBeginning: true });
  const start = performance.now();
  await bare.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: cfg.SLUICE_CONCURRENCY,
    eachBatch: async ({ batch, resolveOffset }) => {
      await producer.sendBatch({ topicMessages: [{ topic: output, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) }], acks: -1 });
      await bare.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }]);
      resolveOffset(batch.lastOffset());
    },
  });
  await timeUntil(output);
  const seconds = (performance.now() - start) / 1000;
  await bare.disconnect();
  return seconds;
}

async function sluice(round: number, output: string): Promise<number> {
  // Timed from the start of consuming (group join included), as the bare loop is: connection checks are not throughput.
  const running = await startTopology(passthrough(`${id}-sluice-${round}`, input, output), cfg, pino({ level: 'warn' }));
  const seconds = await timeUntil(output);
  await running.stop();
  return seconds;
}

const bareRates: number[] = [];
const sluiceRates: number[] = [];
for (const [round, [bareOut, sluiceOut]] of outputs.entries()) {
  bareRates.push(n / (await bareLoop(round, bareOut)));
  sluiceRates.push(n / (await sluice(round, sluiceOut)));
  console.log(`round ${round + 1}: bare ${bareRates.at(-1)!.toFixed(0)} records/s, sluice ${sluiceRates.at(-1)!.toFixed(0)} records/s`);
}
const [bareRate, sluiceRate] = [median(bareRates), median(sluiceRates)];
console.log(`bare kafkajs loop : ${bareRate.toFixed(0).padStart(8)} records/s (median)`);
console.log(`sluice topology   : ${sluiceRate.toFixed(0).padStart(8)} records/s (median)`);
console.log(`ratio sluice/bare : ${(sluiceRate / bareRate).toFixed(2)} (target >= 0.80)`);
await admin.deleteTopics({ topics: [input, ...outputs.flat()] });
await Promise.all([producer.disconnect(), admin.disconnect()]);
