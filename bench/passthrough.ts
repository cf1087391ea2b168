// Pass-through throughput: Sluice (decode Avro → map → encode → produce, commit after durable)
// against a bare kafkajs consume-and-produce loop, on the same pre-filled topic, in one run.
// Usage: eval "$(bin/stack env)"; bin/node bench/passthrough.ts [records=200000]
import { pino } from 'pino';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startTopology } from '../core/runtime/run.ts';
import { benchConfig, passthrough, prefill } from './lib.ts';

const n = Number(process.argv[2] ?? 200_000);
const cfg = benchConfig();
const kafka = new Kafka({ brokers: cfg.KAFKA_BROKERS, logLevel: logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();
const id = `bench-${Date.now()}`;
const [input, baseOut, sluiceOut] = [`${id}.in`, `${id}.bare-out`, `${id}.sluice-out`];
await admin.createTopics({ topics: [baseOut, sluiceOut].map((topic) => ({ topic, numPartitions: 6 })), waitForLeaders: true });
const t0 = 1_790_000_000_000;
await prefill(input, n, (i) => ({ device_id: `dev-${i % 1000}`, sensor_type: 'temperature', value: 21.5, unit: '°C', time: t0 + i, ingest_time: t0 + i }), { [sluiceOut]: 'sensor-readings' });
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
console.log(`pre-filled ${input} with ${n} records`);

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
const bare = kafka.consumer({ groupId: `${id}-bare`, maxBytesPerPartition: 512 << 10, maxBytes: 8 << 20 });
await bare.connect();
await bare.subscribe({ topic: input, fromBeginning: true });
const bareStart = performance.now();
await bare.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: cfg.SLUICE_CONCURRENCY,
  eachBatch: async ({ batch, resolveOffset }) => {
    await producer.sendBatch({ topicMessages: [{ topic: baseOut, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) }], acks: -1 });
    await bare.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }]);
    resolveOffset(batch.lastOffset());
  },
});
await timeUntil(baseOut);
const bareSeconds = (performance.now() - bareStart) / 1000;
await bare.disconnect();

const topology = passthrough(`${id}-sluice`, input, sluiceOut);
// Timed from the start of consuming (group join included), as the bare loop is: connection checks are not throughput.
const running = await startTopology(topology, cfg, pino({ level: 'warn' }));
const sluiceStart = performance.now();
await timeUntil(sluiceOut);
const sluiceSeconds = (performance.now() - sluiceStart) / 1000;
await running.stop();

const bareRate = n / bareSeconds;
const sluiceRate = n / sluiceSeconds;
console.log(`bare kafkajs loop : ${bareRate.toFixed(0).padStart(8)} records/s (${bareSeconds.toFixed(2)} s)`);
console.log(`sluice topology   : ${sluiceRate.toFixed(0).padStart(8)} records/s (${sluiceSeconds.toFixed(2)} s)`);
console.log(`ratio sluice/bare : ${(sluiceRate / bareRate).toFixed(2)} (target >= 0.80)`);
await admin.deleteTopics({ topics: [input, baseOut, sluiceOut] });
await Promise.all([producer.disconnect(), admin.disconnect()]);
