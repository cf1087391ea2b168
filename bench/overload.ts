// Overload: the rate the whole pipeline sustains on this machine, then that rate × --factor (1.5) for
// several minutes. The pipeline is the fault suite's (faults/run.ts: every stage its own process, a
// private PostgreSQL and Mosquitto), without faults. Prints per stage the rate it sustained, and under
// overload every process's peak RSS, where the backlog waited at its largest (Mosquitto's queue,
// ingest's window of withheld PUBACKs, each group's lag in Kafka), and the end checks: every
// acknowledged reading stored once, the archive equal to sensor_data.
// Usage: eval "$(bin/stack env)"; bin/node bench/overload.ts [--probe-rate 8000] [--probe-s 60] [--minutes 8] [--factor 1.5]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { sumMetric } from '../core/runtime/status.ts';
import { archiveWholeRun, checkPipeline, formatTable } from '../faults/checks.ts';
import { simProgress, watch } from '../faults/pipeline.ts';
import { processRows, withRun, type Row, type Run } from '../faults/run.ts';
import { benchLock } from './lib.ts';

const { values } = parseArgs({ options: { 'probe-rate': { type: 'string' }, 'probe-s': { type: 'string' }, minutes: { type: 'string' }, factor: { type: 'string' } } });
const probeRate = Number(values['probe-rate'] ?? 8000);
const probeS = Number(values['probe-s'] ?? 60);
const minutes = Number(values.minutes ?? 8);
const factor = Number(values.factor ?? 1.5);
benchLock('overload');

/** The consumer groups, by stage; ingest is measured by what reaches its topic. */
const STAGES = ['timescale-sink', 'alerting', 'hourly-aggregates', 'archiver'] as const;
const SAMPLE_MS = 2000;

interface Sample {
  at: number;
  /** Readings the broker acknowledged to the devices. */
  acked: number;
  /** Records in the readings topic. */
  written: number;
  /** Messages ingest holds unacknowledged (its PUBACKs withheld until Kafka has them). */
  unacked: number;
  /** Committed offsets of each stage's group, summed over partitions. */
  committed: Record<string, number>;
}

async function sample(run: Run, progress: () => { acked: number }): Promise<Sample> {
  const { kafka, names, pipeline } = run;
  const written = (await kafka.watermarks(names.readings)).reduce((n, w) => n + Number(w.high), 0);
  const committed: Record<string, number> = {};
  for (const stage of STAGES) committed[stage] = [...(await kafka.groupOffsets(names.topology(stage), names.readings)).values()].reduce((n, o) => n + Number(o), 0);
  const ingest = pipeline.slot('ingest', 0)!;
  const metrics = await fetch(`http://127.0.0.1:${ingest.port}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
  return { at: Date.now(), acked: progress().acked, written, unacked: sumMetric(metrics, 'sluice_mqtt_unacked'), committed };
}

const perSecond = (a: Sample, b: Sample, value: (s: Sample) => number) => (value(b) - value(a)) / ((b.at - a.at) / 1000);

/** Per stage, readings per second over the samples after the first third (groups joined, queues full). */
function rates(samples: Sample[]): Record<string, number> {
  const a = samples[Math.floor(samples.length / 3)]!;
  const b = samples.at(-1)!;
  const out: Record<string, number> = { devices: perSecond(a, b, (s) => s.acked), ingest: perSecond(a, b, (s) => s.written) };
  for (const stage of STAGES) out[stage] = perSecond(a, b, (s) => s.committed[stage]!);
  return out;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** Waits for every process's /ready, so that ingest has subscribed before the devices publish. */
async function ready(run: Run): Promise<void> {
  const w = watch({ kafka: run.kafka, pipeline: run.pipeline, topic: run.names.readings, lagGroups: [...STAGES], allGroups: [...STAGES], progress: () => ({ acked: 0, bad: 0 }), signal: new AbortController().signal });
  if (!(await w.untilReady(180_000))) throw new Error('the pipeline did not become ready within 180 s');
}

/** Samples until every acknowledged reading is in Kafka and every stage has committed it (at most 15 min). */
async function drain(run: Run, progress: () => { acked: number }, samples: Sample[]): Promise<boolean> {
  const done = (s: Sample) => s.written >= s.acked && STAGES.every((stage) => s.committed[stage]! >= s.written);
  const end = Date.now() + 900_000;
  for (;;) {
    const s = await sample(run, progress);
    samples.push(s);
    if (done(s)) return true;
    if (Date.now() > end) return false;
    await sleep(SAMPLE_MS);
  }
}

// 1. The capacity: the devices publish as fast as they can for probe-s while ingest is stopped (the
//    broker queues for its session); then ingest starts, and each stage's rate over the backlog is the
//    time it took to commit all of it. The slowest stage's is the rate the pipeline sustains.
let sustained = 0;
let devicesRate = 0;
let capacity: Record<string, number> = {};
await withRun({ kind: 'overload', keep: false, disruptsStack: false, header: (id) => [`overload probe ${id}: a backlog of ${probeS} s of devices at up to ${probeRate}/s, then drained`] }, async (run) => {
  await ready(run);
  await run.pipeline.stop(run.pipeline.slot('ingest', 0)!);
  const devices = run.startDevices({ rate: probeRate, durationS: probeS, bad: 0, episodes: 0 });
  while (devices.running()) await sleep(1000);
  const progress = simProgress(`${run.runDir}/sim.jsonl`);
  const backlog = progress().acked;
  devicesRate = backlog / ((Date.now() - devices.started) / 1000);
  await run.pipeline.add('ingest');
  const samples: Sample[] = [];
  if (!(await drain(run, progress, samples))) throw new Error('the backlog was not drained within 15 minutes');
  // From ingest's first record on: its start-up is not the pipeline's rate.
  const began = samples.find((s) => s.written > 0)!.at - SAMPLE_MS / 2;
  const secondsTo = (reached: (s: Sample) => boolean) => ((samples.find(reached)?.at ?? Date.now()) - began) / 1000;
  capacity = { ingest: backlog / secondsTo((s) => s.written >= backlog) };
  for (const stage of STAGES) capacity[stage] = backlog / secondsTo((s) => s.committed[stage]! >= backlog);
  sustained = backlog / secondsTo((s) => STAGES.every((stage) => s.committed[stage]! >= backlog));
  run.note(`backlog ${fmt(backlog)} (devices ${fmt(devicesRate)}/s); drained at ${Object.entries(capacity).map(([k, v]) => `${k} ${fmt(v)}/s`).join(', ')}; the pipeline ${fmt(sustained)}/s`);
  return true;
});

// 2. Overload: readings arrive at factor × the sustained rate for `minutes`. The devices cannot go
//    that fast, so ingest is stopped for the first part of the run (the broker queues) and the rest
//    brings that backlog and the live readings: on average factor × sustained. Once the pipeline runs,
//    the devices share its cores: they keep about half of what they reached alone (8,000/s alone and
//    4,456/s beside the pipeline in a run that asked for 8,000/s), so they are asked for half.
if (!(sustained > 0)) throw new Error('the probe measured no rate');
const target = sustained * factor;
const rate = Math.min(target, devicesRate / 2);
const offS = Math.round(minutes * 60 * (1 - rate / target));
let table = '';
const passed = await withRun({ kind: 'overload', keep: false, disruptsStack: false, header: (id) => [`overload ${id}: ${fmt(target)}/s (${factor} × ${fmt(sustained)}) for ${minutes} min: devices at ${fmt(rate)}/s, ingest stopped for the first ${offS} s`] }, async (run) => {
  await ready(run);
  if (offS > 0) await run.pipeline.stop(run.pipeline.slot('ingest', 0)!);
  const devices = run.startDevices({ rate: Math.round(rate), durationS: minutes * 60, bad: 0, episodes: 0 });
  await sleep(offS * 1000);
  if (offS > 0) await run.pipeline.add('ingest');
  const onAt = Date.now();
  const progress = simProgress(`${run.runDir}/sim.jsonl`);
  const samples: Sample[] = [];
  while (devices.running()) {
    samples.push(await sample(run, progress));
    await sleep(SAMPLE_MS);
  }
  // What ingest had to take while it ran: the backlog and the live readings.
  const arrived = samples.at(-1)!.acked / ((samples.at(-1)!.at - onAt) / 1000);
  const over = rates(samples);
  run.note('devices stopped; waiting until the pipeline has drained');
  const drainStart = Date.now();
  const drained = await drain(run, progress, samples);
  const queued = samples.map((s) => Math.max(0, s.acked - s.written - s.unacked));
  const lag = Object.fromEntries(STAGES.map((stage) => [stage, Math.max(...samples.map((s) => s.written - s.committed[stage]!))]));
  const from = new Date(devices.started - 60_000);
  const checks = await checkPipeline({
    simLog: devices.log, pgUrl: run.pgsql.url, kafkaBrokers: run.brokers, dlqFrom: run.dlqFrom, mqttPrefix: run.id, readingsTopic: run.names.readings, archive: run.env, from, to: from,
  });
  const archive = await archiveWholeRun(run.env, run.pgsql.url, from);
  const rows: Row[] = [
    { check: 'arrival', expected: `${fmt(target)}/s for ${minutes} min`, found: `${fmt(arrived)}/s into ingest while it ran (devices ${fmt(over.devices!)}/s, ingest stopped the first ${offS} s)`, ok: '' },
    ...['ingest', ...STAGES].map((s) => ({ check: `rate ${s}`, expected: '', found: `${fmt(over[s]!)}/s (backlog drained at ${fmt(capacity[s]!)}/s)`, ok: '' as const })),
    { check: 'Mosquitto queue', expected: 'the backlog waits at the broker', found: `peak ${fmt(Math.max(...queued))} messages`, ok: '' },
    { check: 'ingest PUBACKs withheld', expected: 'bounded (INGEST_INFLIGHT 5000 is its MQTT receive maximum)', found: `peak ${fmt(Math.max(...samples.map((s) => s.unacked)))}`, ok: '' },
    ...STAGES.map((s) => ({ check: `lag ${s}`, expected: '', found: `peak ${fmt(lag[s]!)} records`, ok: '' as const })),
    { check: 'drained', expected: 'every acked reading in Kafka, every group committed within 900 s', found: drained ? `yes, in ${Math.round((Date.now() - drainStart) / 1000)} s` : 'no', ok: drained },
    ...checks.filter((c) => c.check === 'readings' || c.check === 'dlq'),
    archive,
    ...processRows(run.pipeline).filter((r) => r.check.startsWith('peak RSS') || r.found !== '0'),
  ];
  table = formatTable(rows);
  return rows.every((r) => r.ok !== false);
});
console.log(`\n${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores\n${table}\n`);
process.exitCode = passed ? 0 : 1;
