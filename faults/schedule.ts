import { ConfigError } from '../core/errors.ts';

/** The kinds of fault the suite injects, one at a time. */
export const faultKinds = [
  'kill', 'fault-point', 'pause-instance', 'kafka-kill', 'kafka-pause',
  'postgres-crash', 'mosquitto-restart', 'objectstore-outage', 'registry-outage', 'rebalance-storm',
] as const;
export type FaultKind = (typeof faultKinds)[number];

/** The pipeline's processes: topology and how many instances run (two share a group, so partitions move). */
export const pipelineShape = [
  { topology: 'ingest', instances: 1 },
  { topology: 'timescale-sink', instances: 2 },
  { topology: 'alerting', instances: 1 },
  { topology: 'hourly-aggregates', instances: 2 },
  { topology: 'archiver', instances: 2 },
] as const;

const scaled = pipelineShape.filter((p) => p.instances > 1).map((p) => p.topology);
const instances = pipelineShape.flatMap((p) => Array.from({ length: p.instances }, (_, i) => ({ topology: p.topology, instance: i })));

/** Where a process can be made to SIGKILL itself (SLUICE_FAULT, core/fault.ts), per topology. */
export const faultPoints = [
  { topology: 'ingest', point: 'ingest.before-puback' }, // Kafka has the batch, the broker has no PUBACK
  { topology: 'timescale-sink', point: 'timescale.committed' },
  { topology: 'archiver', point: 'archive.upload' },
  { topology: 'hourly-aggregates', point: 'task.flushed' },
  { topology: 'ingest', point: 'ingest.before-kafka-ack' },
  { topology: 'timescale-sink', point: 'timescale.copy' },
  { topology: 'alerting', point: 'runtime.before-commit' },
  { topology: 'archiver', point: 'runtime.before-commit' },
  { topology: 'hourly-aggregates', point: 'runtime.before-commit' },
  { topology: 'alerting', point: 'task.flushed' },
] as const;

export interface PlannedFault {
  /** When it starts, in ms from the start of the run (the devices' first reading). */
  at: number;
  kind: FaultKind;
  /** How long the fault itself lasts (a pause, an outage), ms; 0 for a kill. */
  holdMs: number;
  /** The time planned for it: hold, the service's restart and a settle gap, ms. */
  budgetMs: number;
  /** The pipeline process it hits (kill, fault-point, pause-instance, rebalance-storm). */
  topology?: string;
  instance?: number;
  /** fault-point: the point, and at which of its hits the process dies. */
  point?: string;
  nth?: number;
}

export interface Plan {
  minutes: number;
  seed: number;
  outageMs: number;
  faults: PlannedFault[];
}

/** The first fault comes once the pipeline has run this long. */
export const WARMUP_MS = 10_000;
/** After each fault, time for the pipeline to catch up before the next one is planned. */
export const SETTLE_MS = 10_000;
/** A SIGSTOP of one instance outlasts the suite's session timeout (10 s) so its partitions move. */
const PAUSE_MS = 15_000;
const KAFKA_PAUSE_MS = 30_000;
/** How long the private PostgreSQL stays down after its immediate stop. */
const POSTGRES_DOWN_MS = 5_000;
const STORM_MS = 20_000;

/** Outage of the object store and the registry: 30 s in runs shorter than 20 minutes, else 120 s. */
export const defaultOutageS = (minutes: number) => (minutes < 20 ? 30 : 120);

/** Hold and extra time (a JVM's restart) of one kind, ms. */
function timing(kind: FaultKind, outageMs: number): { hold: number; extra: number } {
  switch (kind) {
    case 'pause-instance': return { hold: PAUSE_MS, extra: 0 };
    case 'kafka-kill': return { hold: 0, extra: 15_000 };
    case 'kafka-pause': return { hold: KAFKA_PAUSE_MS, extra: 0 };
    case 'postgres-crash': return { hold: POSTGRES_DOWN_MS, extra: 0 };
    case 'objectstore-outage': return { hold: outageMs, extra: 5_000 };
    case 'registry-outage': return { hold: outageMs, extra: 15_000 };
    case 'rebalance-storm': return { hold: STORM_MS, extra: 0 };
    default: return { hold: 0, extra: 0 };
  }
}

/** A small seeded PRNG (mulberry32): the same seed, the same plan. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

function shuffled<T>(rng: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The faults of a run of `minutes`, a pure function of (minutes, seed, outage): rounds of every kind
 * in a shuffled order, as many as fit (a short run holds one round: each kind once), then the time
 * left over spread at random between them. Faults never overlap and all end within the run.
 * Fault points are taken in turn from a random start, so a long run goes through all of them.
 * @example planFaults({ minutes: 5, seed: 42 }).faults[0] // { at: 10187, kind: 'rebalance-storm', holdMs: 20000, budgetMs: 30000, topology: 'timescale-sink' }
 */
export function planFaults(opts: { minutes: number; seed: number; outageS?: number }): Plan {
  const { minutes, seed } = opts;
  if (!(minutes > 0)) throw new ConfigError(`--minutes must be a positive number, got ${minutes}`);
  const outageMs = (opts.outageS ?? defaultOutageS(minutes)) * 1000;
  if (!(outageMs > 0)) throw new ConfigError(`--outage must be a positive number of seconds, got ${opts.outageS}`);
  const rng = random(seed);
  const available = minutes * 60_000 - WARMUP_MS;
  let pointTurn = Math.floor(rng() * faultPoints.length);
  const faults: Omit<PlannedFault, 'at'>[] = [];
  let used = 0;
  for (let round = 0; ; round++) {
    let added = 0;
    for (const kind of shuffled(rng, faultKinds)) {
      const { hold, extra } = timing(kind, outageMs);
      const fault: Omit<PlannedFault, 'at'> = { kind, holdMs: hold, budgetMs: hold + extra + SETTLE_MS, ...target(kind, rng, () => faultPoints[pointTurn++ % faultPoints.length]!) };
      if (used + fault.budgetMs > available) continue;
      used += fault.budgetMs;
      faults.push(fault);
      added++;
    }
    if (round === 0 && added < faultKinds.length) {
      const need = faultKinds.reduce((s, k) => s + timing(k, outageMs).hold + timing(k, outageMs).extra + SETTLE_MS, WARMUP_MS);
      throw new ConfigError(`--minutes ${minutes} is too short for one fault of each kind (with --outage ${outageMs / 1000}): they need ${Math.ceil(need / 60_000)} minutes`);
    }
    if (added < faultKinds.length) break;
  }
  // The slack, cut at random points into faults.length + 1 gaps: one before each fault, one at the end.
  const cuts = Array.from({ length: faults.length }, () => rng()).sort((a, b) => a - b);
  const slack = available - used;
  let at = WARMUP_MS;
  let previousCut = 0;
  const planned = faults.map((f, i) => {
    at += Math.floor((cuts[i]! - previousCut) * slack);
    previousCut = cuts[i]!;
    const p = { at, ...f };
    at += f.budgetMs;
    return p;
  });
  return { minutes, seed, outageMs, faults: planned };
}

function target(kind: FaultKind, rng: () => number, nextPoint: () => (typeof faultPoints)[number]): Partial<PlannedFault> {
  switch (kind) {
    case 'kill': return { ...pick(rng, instances) };
    case 'fault-point': {
      const { topology, point } = nextPoint();
      const count = pipelineShape.find((p) => p.topology === topology)!.instances;
      // Not always the first hit: the process has done some work before it dies.
      return { topology, instance: Math.floor(rng() * count), point, nth: 1 + Math.floor(rng() * 3) };
    }
    case 'pause-instance': return { topology: pick(rng, scaled), instance: Math.floor(rng() * 2) };
    case 'rebalance-storm': return { topology: pick(rng, scaled) };
    default: return {};
  }
}

/** One line per fault, for the run's log: `+01:23 kafka-pause (30 s)`. */
export function describeFault(f: PlannedFault): string {
  const t = `+${String(Math.floor(f.at / 60_000)).padStart(2, '0')}:${String(Math.floor(f.at / 1000) % 60).padStart(2, '0')}`;
  const who = f.topology ? ` ${f.topology}${f.instance !== undefined ? `#${f.instance}` : ''}` : '';
  const point = f.point ? ` at ${f.point}:${f.nth}` : '';
  return `${t} ${f.kind}${who}${point}${f.holdMs ? ` (${f.holdMs / 1000} s)` : ''}`;
}
