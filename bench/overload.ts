// Overload: the rate the whole pipeline sustains on this machine, then that rate × --factor (1.5) for
// several minutes. The pipeline is the fault suite's (faults/run.ts: every stage its own process, a
// private PostgreSQL and Mosquitto), without faults. Prints per stage the rate it sustained, and under
// overload every process's peak RSS, where the backlog waited at its largest (Mosquitto's queue,
// ingest's window of withheld PUBACKs, each group's lag in Kafka), and the end checks: every
// acknowledged reading stored once, the archive equal to sensor_data.
// Usage: eval "$(bin/stack env)"; bin/node bench/overload.ts [--probe-rate 4000] [--probe-s 90] [--minutes 4] [--factor 1.5]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { sumMetric } from '../core/runtime/status.ts';
import { archiveWholeRun, checkPipeline, formatTable } from '../faults/checks.ts';
import { simProgress } from '../faults/pipeline.ts';
import { processRows, withRun, type Row, type Run } from '../faults/run.ts';
import { benchLock, median } from './lib.ts';

const { values } = parseArgs({ options: { 'probe-rate': { type: 'string' }, 'probe-s': { type: 'string' }, minutes: { type: 'string' }, factor: { type: 'string' } } });
const probeRate = Number(values['probe-rate'] ?? 4000);
const probeS = Number(values['probe-s'] ?? 90);
const minutes = Number(values.minutes ?? 4);
const factor = Number(values.factor ?? 1.5);
benchLock('overload');

/** The consumer groups, by stage; ingest is measured by what reaches its topic. */
const STAGES = ['timescale-sink', 'alerting', 'hourly-aggregates', 'archiver'] as const;
const SAMPLE_MS = 5000;

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

/** Samples every SAMPLE_MS while the devices run. */
async function sampleWhile(run: Run, running: () => boolean): Promise<Sample[]> {
  const progress = simProgress(`${run.runDir}/sim.jsonl`);
  const samples: Sample[] = [];
  while (running()) {
    samples.push(await sample(run, progress));
    await sleep(SAMPLE_MS);
  }
  return samples;
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

// 1. The probe: devices far faster than the pipeline; what each stage gets through is its rate.
let sustained = 0;
let probeRates: Record<string, number> = {};
await withRun({ kind: 'overload', keep: false, disruptsStack: false, header: (id) => [`overload probe ${id}: devices at ${probeRate}/s for ${probeS} s`] }, async (run) => {
  const devices = run.startDevices({ rate: probeRate, durationS: probeS, bad: 0, episodes: 0 });
  const samples = await sampleWhile(run, () => devices.running());
  await devices.stop();
  probeRates = rates(samples);
  // The archiver commits once per uploaded file: over a probe it moves in steps, and it is left out.
  sustained = Math.min(probeRates.ingest!, ...STAGES.filter((s) => s !== 'archiver').map((s) => probeRates[s]!));
  run.note(`probe: ${Object.entries(probeRates).map(([k, v]) => `${k} ${fmt(v)}/s`).join(', ')}; sustained ${fmt(sustained)}/s`);
  return true;
});

// 2. Overload: factor × the sustained rate for `minutes`, then the drain and the end checks.
const rate = Math.round(sustained * factor);
let table = '';
const passed = await withRun({ kind: 'overload', keep: false, disruptsStack: false, header: (id) => [`overload ${id}: devices at ${rate}/s (${factor} × ${fmt(sustained)}) for ${minutes} min`] }, async (run) => {
  const devices = run.startDevices({ rate, durationS: minutes * 60, bad: 0, episodes: 0 });
  const samples = await sampleWhile(run, () => devices.running());
  await devices.stop();
  const over = rates(samples);
  const queued = samples.map((s) => Math.max(0, s.acked - s.written - s.unacked));
  const lag = Object.fromEntries(STAGES.map((stage) => [stage, Math.max(...samples.map((s) => s.written - s.committed[stage]!))]));
  run.note('devices stopped; waiting until the pipeline has drained');
  const drainStart = Date.now();
  const progress = simProgress(`${run.runDir}/sim.jsonl`);
  let last = await sample(run, progress);
  while (Date.now() - drainStart < 900_000 && !(last.written >= last.acked && STAGES.every((s) => last.committed[s]! >= last.written))) {
    await sleep(SAMPLE_MS);
    last = await sample(run, progress);
  }
  const drained = last.written >= last.acked && STAGES.every((s) => last.committed[s]! >= last.written);
  const from = new Date(devices.started - 60_000);
  const checks = await checkPipeline({
    simLog: devices.log, pgUrl: run.pgsql.url, kafkaBrokers: run.brokers, dlqFrom: run.dlqFrom, mqttPrefix: run.id, readingsTopic: run.names.readings, archive: run.env, from, to: from,
  });
  const archive = await archiveWholeRun(run.env, run.pgsql.url, from);
  const rows: Row[] = [
    { check: 'devices', expected: `${fmt(rate)}/s for ${minutes} min`, found: `${fmt(over.devices!)}/s acknowledged by Mosquitto`, ok: '' },
    ...['ingest', ...STAGES].map((s) => ({ check: `rate ${s}`, expected: '', found: `${fmt(over[s]!)}/s (probe ${fmt(probeRates[s]!)}/s)`, ok: '' as const })),
    { check: 'Mosquitto queue', expected: 'the backlog waits at the broker', found: `peak ${fmt(Math.max(...queued))} messages, median ${fmt(median(queued))}`, ok: '' },
    { check: 'ingest PUBACKs withheld', expected: 'at most INGEST_INFLIGHT + 4 batches', found: `peak ${fmt(Math.max(...samples.map((s) => s.unacked)))}`, ok: '' },
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
