// bin/fault-suite: the whole pipeline as separate processes against the real local stack, faults
// injected on a schedule (faults/schedule.ts), then the end checks (faults/checks.ts) and one table.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { runCommand } from '../core/cli.ts';
import { ConfigError } from '../core/errors.ts';
import { archiveWholeRun, checkPipeline, formatTable, markdownTable } from './checks.ts';
import { simProgress, watch, type Watch } from './pipeline.ts';
import { defaultOutageS, describeFault, faultKinds, planFaults, type FaultKind, type Plan, type PlannedFault } from './schedule.ts';
import { killKafka, outage, pauseKafka, type PrivateBroker, type PrivatePostgres } from './services.ts';
import { processRows, withRun, type Devices, type Note, type Row } from './run.ts';
import type { Pipeline } from './pipeline.ts';

const usage = `usage: bin/fault-suite [--minutes <n>] [--seed <n>] [--rate <n>] [--outage <s>] [--run-dir <dir>] [--keep]

Runs the whole pipeline (ingest, timescale-sink ×2, alerting, hourly-aggregates ×2, archiver ×2),
each instance its own process, against the stack's Kafka, registry and object store and a private
PostgreSQL and Mosquitto, while simulated devices publish; injects faults one at a time on a
schedule made from --minutes and --seed; then stops the devices, waits until the pipeline has
drained and prints one table: the faults (count, recovery median and max), the end checks (no
reading lost or stored twice, archive, hourly statistics, alerts, dead letters), peak RSS and
restarts per topology. Exit 0 only when every row is ok.

  --minutes <n>   length of the fault schedule (5, the short profile: every kind of fault once)
  --seed <n>      seed of the schedule (default: from the clock, printed)
  --rate <n>      readings per second of the 20 simulated devices (100)
  --outage <s>    how long the object store and the registry stay down (30; 120 from 20 minutes)
  --run-dir <d>   where the logs and the report go ($SLUICE_HOME/logs/faults/<run id>)
  --keep          keep the run's Kafka topics, schema subjects and archive even when every check is ok

It kills, stops and restarts Kafka, the registry and the object store: only those bin/stack up
started (else it refuses), and it always leaves them running. Run ids are faults-<yyyymmddhhmmss>;
topics <id>.readings, <id>.alerts, <id>.stats; consumer groups <id>-<topology>.`;

/** How long a fault may take to be recovered from before it counts as not recovered. */
const RECOVERY_TIMEOUT_MS = 240_000;
/** At least this long between a recovery and the next fault, when the schedule runs late. */
const MIN_GAP_MS = 5_000;
const DRAIN_TIMEOUT_MS = 300_000;
/** Groups whose committed lag is the pipeline's lag for recovery. The archiver's is left out: it
 * commits only once a file is uploaded, so its lag climbs with every row until the file closes. */
const LAG_GROUPS = ['timescale-sink', 'alerting', 'hourly-aggregates'];
const HOURLY_GRACE_MS = 600_000; // topologies/hourly-aggregates.ts's default, which the suite keeps
const DB_TABLES = ['sensor_data', 'alerts', 'sensor_stats_hourly', 'sluice_sink_offsets'];

interface Options { minutes: number; seed: number; rate: number; outageS: number; runDir?: string; keep: boolean }
interface Outcome { fault: PlannedFault; recoveryMs?: number; detail?: string }

const num = (name: string, v: string | undefined, def: number) => {
  const n = v === undefined ? def : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The faults, one at a time: each waits for its time and for the pipeline to have recovered from the last. */
async function runFaults(plan: Plan, w: Watch, d: Targets & { devices: Devices }, signal: AbortSignal, note: Note): Promise<Outcome[]> {
  const t0 = Date.now();
  const outcomes: Outcome[] = [];
  let free = 0;
  for (const f of plan.faults) {
    const wait = Math.max(t0 + f.at, free) - Date.now();
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    if (!d.devices.running()) throw new Error('bin/simulate-devices exited early; see sim.log in the run directory');
    const before = await w.lagLevel();
    const limit = Math.max(50, 1.2 * before);
    note(`fault ${describeFault(f)}; lag before ${before}`);
    const detail = await inject(f, d);
    note(`fault ${f.kind} over${detail ? ` (${detail})` : ''}`);
    const recoveryMs = await w.recovered(limit, RECOVERY_TIMEOUT_MS);
    note(recoveryMs === undefined ? `NOT recovered within ${RECOVERY_TIMEOUT_MS / 1000} s` : `recovered in ${seconds(recoveryMs)} (every acked reading in Kafka, lag ≤ ${Math.round(limit)}, all ready)`);
    outcomes.push({ fault: f, recoveryMs, detail });
    free = Date.now() + MIN_GAP_MS;
  }
  return outcomes;
}

async function runSuite(o: Options, signal: AbortSignal): Promise<number> {
  const plan = planFaults({ minutes: o.minutes, seed: o.seed, outageS: o.outageS });
  const header = (id: string, runDir: string) => [
    `run ${id}, seed ${o.seed}, ${plan.faults.length} faults in ${o.minutes} min; logs in ${runDir}`,
    ...plan.faults.map((f) => `  planned ${describeFault(f)}`),
  ];
  const ok = await withRun({ kind: 'faults', runDir: o.runDir, keep: o.keep, disruptsStack: true, header }, async (run) => {
    const { id, names, runDir, note, pgsql, mqtt, kafka, pipeline: p, dlqFrom, env, brokers } = run;
    const logOf = join(runDir, 'sim.jsonl');
    const w = watch({ kafka, pipeline: p, topic: names.readings, lagGroups: LAG_GROUPS, allGroups: [...LAG_GROUPS, 'archiver'], progress: simProgress(logOf), signal });
    if (!(await w.untilReady(180_000))) throw new Error(`the pipeline did not become ready within 180 s; see the logs in ${runDir}`);
    note(`pipeline ready: ${p.slots.map((s) => `${s.topology}#${s.index} :${s.port}`).join(', ')}`);
    // Twice the schedule and 5 minutes more: it runs late when services take long to start again (the
    // registry took 100 s for a 30 s outage). The devices are stopped once the last fault is over;
    // episodes and bad messages are spread over the whole duration, and about half of them are sent.
    const devices = run.startDevices({ rate: o.rate, durationS: Math.round(o.minutes * 120 + 300), bad: Math.round(o.minutes * 8), episodes: Math.max(6, Math.round(o.minutes * 4)) });
    // The schedule starts once the pipeline keeps up: its groups have joined and caught up the first time.
    const warm = await w.recovered(o.rate * 3, RECOVERY_TIMEOUT_MS);
    note(warm === undefined ? 'the pipeline did not catch up with the devices within 240 s; starting the faults anyway' : `pipeline caught up in ${seconds(warm)}; faults start`);

    const outcomes = await runFaults(plan, w, { pipeline: p, pgsql, mqtt, devices }, signal, note);
    await devices.stop();
    const simStoppedAt = Date.now();
    note('waiting until the pipeline has drained');
    const drain = await w.drained(DRAIN_TIMEOUT_MS);
    const left = `unacked ${drain.last?.unacked}, uncommitted ${drain.last?.uncommitted}`;
    note(drain.ok ? 'drained' : `NOT drained within ${DRAIN_TIMEOUT_MS / 1000} s (${left})`);

    // Hourly statistics: an hour is emitted once its partition's stream time passes end + grace. With
    // HOURLY_IDLE_MS, an idle partition's stream time moves on with the wall clock from the restart.
    note('restarting hourly-aggregates with HOURLY_IDLE_MS=5000');
    for (const s of p.instances('hourly-aggregates')) await p.stop(s);
    const restartedAt = Date.now();
    for (let i = 0; i < 2; i++) await p.add('hourly-aggregates', { HOURLY_IDLE_MS: '5000' });
    const to = await waitForStats(pgsql.url, () => simStoppedAt + (Date.now() - restartedAt) - HOURLY_GRACE_MS - 30_000, note);

    note('running the end checks');
    const from = new Date(devices.started - 60_000);
    const checks = await checkPipeline({
      simLog: devices.log, pgUrl: pgsql.url, kafkaBrokers: brokers, dlqFrom, mqttPrefix: id, readingsTopic: names.readings, archive: env, from, to,
    });
    // checkPipeline's archive row looks only at hours that ended by `to`: none in a run within one hour.
    checks.splice(2, 0, await archiveWholeRun(env, pgsql.url, from).catch((err: Error) => ({ check: 'archive, open hour too', expected: 'the check to run', found: `error: ${err.message}`, ok: false })));
    const rows: Row[] = [
      ...faultRows(outcomes, plan.faults),
      { check: 'drained', expected: `every message acked, every group committed within ${DRAIN_TIMEOUT_MS / 1000} s`, found: drain.ok ? 'yes' : `no: ${left}`, ok: drain.ok },
      ...checks,
      ...processRows(p),
    ];
    const allOk = rows.every((r) => r.ok !== false) && outcomes.length === plan.faults.length;
    console.log(`\n${formatTable(rows)}\n`);
    writeFileSync(join(runDir, 'report.md'), `# Fault suite ${id} (seed ${o.seed}, ${o.minutes} min)\n\n${markdownTable(rows)}\n`);
    writeFileSync(join(runDir, 'report.json'), `${JSON.stringify({ id, seed: o.seed, minutes: o.minutes, ok: allOk, seconds: (Date.now() - run.started) / 1000, rows }, null, 2)}\n`);
    if (!allOk) {
      if (checks.find((r) => r.check === 'readings')?.ok === false) await noteDuplicates(pgsql.url, note);
      pgsql.dump(join(runDir, 'db'), DB_TABLES);
      note(`the run's tables are in ${runDir}/db/*.csv`);
    }
    note(`${allOk ? 'every check ok' : 'FAILED'} in ${seconds(Date.now() - run.started)}; report ${runDir}/report.md`);
    return allOk;
  });
  return ok ? 0 : 1;
}

interface Targets { pipeline: Pipeline; pgsql: PrivatePostgres; mqtt: PrivateBroker }

/** Does the fault; resolves when it is over (the service answers again, the process is back). A note when something did not go as planned. */
async function inject(f: PlannedFault, d: Targets): Promise<string | undefined> {
  const slot = () => {
    const s = d.pipeline.slot(f.topology!, f.instance ?? 0);
    if (!s) throw new Error(`no instance of ${f.topology}`);
    return s;
  };
  switch (f.kind) {
    case 'kill': return (await d.pipeline.signal(slot(), 'SIGKILL')) ? undefined : 'no process to kill';
    case 'fault-point': return (await d.pipeline.faultPoint(slot(), f.point!, f.nth!, 60_000)) ? undefined : `${f.point} not reached within 60 s`;
    case 'pause-instance': await d.pipeline.pause(slot(), f.holdMs); return;
    case 'rebalance-storm': await d.pipeline.storm(f.topology!); return;
    case 'kafka-kill': await killKafka(); return;
    case 'kafka-pause': await pauseKafka(f.holdMs); return;
    case 'postgres-crash':
      d.pgsql.crash();
      await sleep(f.holdMs);
      d.pgsql.start();
      return;
    case 'mosquitto-restart': await d.mqtt.restart(); return;
    case 'objectstore-outage': await outage('objectstore', f.holdMs); return;
    case 'registry-outage': await outage('registry', f.holdMs); return;
  }
}

/** Waits (at most 90 s) until sensor_stats_hourly has a row for every (device, sensor, hour) of sensor_data that ended by `cutoff()`; returns that time. */
async function waitForStats(url: string, cutoff: () => number, note: (l: string) => void): Promise<Date> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await sleep(15_000); // the restarted instances join, restore and let HOURLY_IDLE_MS pass
    const to = cutoff();
    const missingSql = `SELECT count(*)::int AS n FROM (SELECT date_bin('1 hour', time, '2000-01-01') AS h, device_id, sensor_type FROM sensor_data
      GROUP BY 1, 2, 3) d WHERE d.h + interval '1 hour' <= to_timestamp($1 / 1000.0)
      AND NOT EXISTS (SELECT 1 FROM sensor_stats_hourly s WHERE s.bucket = d.h AND s.device_id = d.device_id AND s.sensor_type = d.sensor_type)`;
    const end = Date.now() + 90_000;
    let missing = 0;
    do {
      missing = (await db.query<{ n: number }>(missingSql, [to])).rows[0]!.n;
      if (missing === 0) break;
      await sleep(2000);
    } while (Date.now() < end);
    note(`hourly statistics: hours that ended by ${new Date(to).toISOString()} (end + HOURLY_GRACE_MS passed): ${missing} (device, sensor, hour) without a row`);
    return new Date(to);
  } finally {
    await db.end();
  }
}

/** Evidence for a readings check that failed: the values stored more than once, with their seq (the value's last 7 decimals, see uniqueValue in connectors/mqtt/simulate.ts). */
async function noteDuplicates(url: string, note: (l: string) => void): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ device_id: string; sensor_type: string; value: number; times: string; sources: string }>(`SELECT device_id, sensor_type, value,
      string_agg(to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ', ' ORDER BY time) AS times, string_agg(coalesce(time_source, '-'), ', ' ORDER BY time) AS sources
      FROM sensor_data GROUP BY 1, 2, 3 HAVING count(*) > 1 ORDER BY min(time) LIMIT 20`);
    for (const r of rows) note(`stored twice: seq ${Math.round(r.value * 1e8) % 1e7} ${r.device_id}/${r.sensor_type} ${r.value} at ${r.times} (time from ${r.sources})`);
  } finally {
    await db.end();
  }
}

function faultRows(outcomes: Outcome[], planned: PlannedFault[]): Row[] {
  return faultKinds.map((kind: FaultKind) => {
    const mine = outcomes.filter((x) => x.fault.kind === kind);
    const times = mine.flatMap((x) => (x.recoveryMs === undefined ? [] : [x.recoveryMs]));
    const notRecovered = mine.length - times.length;
    const notes = [...new Set(mine.flatMap((x) => (x.detail ? [x.detail] : [])))];
    const targets = [...new Set(mine.flatMap((x) => (x.fault.point ? [`${x.fault.topology} ${x.fault.point}`] : x.fault.topology ? [x.fault.topology] : [])))];
    const found = [
      `${mine.length} injected${targets.length ? ` (${targets.join(', ')})` : ''}`,
      times.length ? `recovery median ${seconds(median(times))}, max ${seconds(Math.max(...times))}` : '',
      notRecovered ? `${notRecovered} not recovered` : '', ...notes,
    ].filter(Boolean).join('; ');
    const want = planned.filter((x) => x.kind === kind).length;
    return { check: `fault ${kind}`, expected: `${want} injected, each recovered within ${RECOVERY_TIMEOUT_MS / 1000} s`, found, ok: mine.length === want && notRecovered === 0 };
  });
}

await runCommand('bin/fault-suite', {
  options: {
    minutes: { type: 'string' }, seed: { type: 'string' }, rate: { type: 'string' }, outage: { type: 'string' },
    'run-dir': { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  },
}, async ({ values }) => {
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const minutes = num('minutes', values.minutes, 5);
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a whole number >= 0, got ${JSON.stringify(values.seed)}`);
  const o: Options = {
    minutes, seed, rate: num('rate', values.rate, 100), outageS: num('outage', values.outage, defaultOutageS(minutes)),
    runDir: values['run-dir'], keep: values.keep ?? false,
  };
  planFaults({ minutes, seed, outageS: o.outageS }); // a run too short fails here, before anything starts
  // A first Ctrl-C or SIGTERM ends the schedule; the clean-up (stack restored, processes stopped) still runs.
  const stop = new AbortController();
  // Later ones are ignored: dying during the clean-up could leave Kafka stopped.
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => {
    if (stop.signal.aborted) console.error(`bin/fault-suite: ${s}: cleaning up, please wait`);
    stop.abort();
  });
  return runSuite(o, stop.signal);
});
