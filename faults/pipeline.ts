// The pipeline of a fault-suite run: one process per instance (`bin/run-topology`), each on a free
// ops port, with a supervisor that starts again, after 1 s, any process that exits while it is wanted
// (as Kubernetes would), and the peak RSS of each topology's processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaAdapter } from '../core/kafka/adapter.ts';
import { drained, pipelineStatus, type PipelineProcess, type PipelineStatus } from '../core/runtime/status.ts';
import { freePort } from './services.ts';

type Env = Record<string, string | undefined>;

interface Run {
  child: ChildProcess;
  pid: number;
  /** SLUICE_FAULT it was started with, if any. */
  fault?: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** One instance of a topology. While `wanted`, the supervisor keeps a process running for it. */
export interface Slot {
  topology: string;
  index: number;
  port: number;
  wanted: boolean;
  run?: Run;
  /** Extra environment of every start (HOURLY_IDLE_MS at the end of the run). */
  env: Env;
  /** Extra environment of the next start only (SLUICE_FAULT). */
  once?: Env;
  stopped: boolean;
}

export interface PipelineOptions {
  root: string;
  runDir: string;
  /** The environment every process gets (connection settings, the run's topics). */
  env: Env;
  /** A topology's name in this run (`ingest`, `<id>-timescale-sink`, …). */
  nameOf: (topology: string) => string;
  /** Where the suite's own log lines go. */
  note: (line: string) => void;
}

const label = (s: Slot) => `${s.topology}#${s.index}`;

export class Pipeline {
  readonly slots: Slot[] = [];
  /** Restarts by the supervisor, per topology, with why each process had exited. */
  readonly restarts = new Map<string, string[]>();
  /** Peak VmRSS (KiB) of any process of a topology. */
  readonly peakRssKiB = new Map<string, number>();
  private readonly sampler: NodeJS.Timeout;
  private readonly o: PipelineOptions;

  constructor(o: PipelineOptions) {
    this.o = o;
    this.sampler = setInterval(() => this.sampleRss(), 1000);
  }

  /** Adds an instance of `topology` and starts it. */
  async add(topology: string, env: Env = {}): Promise<Slot> {
    const index = Math.max(-1, ...this.slots.filter((s) => s.topology === topology).map((s) => s.index)) + 1;
    const slot: Slot = { topology, index, port: 0, wanted: true, env, stopped: false };
    this.slots.push(slot);
    await this.launch(slot);
    return slot;
  }

  instances(topology: string): Slot[] {
    return this.slots.filter((s) => s.topology === topology && !s.stopped);
  }

  slot(topology: string, index: number): Slot | undefined {
    return this.instances(topology).find((s) => s.index === index) ?? this.instances(topology)[0];
  }

  private async launch(slot: Slot): Promise<void> {
    slot.port = await freePort();
    const extra = { ...slot.env, ...slot.once };
    slot.once = undefined;
    const log = join(this.o.runDir, `${slot.topology}-${slot.index}.log`);
    const out = openSync(log, 'a');
    const shown = Object.entries(extra).map(([k, v]) => ` ${k}=${v}`).join('');
    writeSync(out, `--- ${new Date().toISOString()} start, ops port ${slot.port}${shown}\n`);
    const name = this.o.nameOf(slot.topology);
    // Detached: a Ctrl-C reaches the suite only, which stops the processes itself.
    const child = spawn(join(this.o.root, 'bin', 'run-topology'), [name, '--topologies', join(this.o.root, 'faults', 'topologies.ts')], {
      env: { ...process.env, ...this.o.env, ...extra, SLUICE_OPS_PORT: String(slot.port) }, stdio: ['ignore', out, out], detached: true,
    });
    closeSync(out);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
    const run: Run = { child, pid: child.pid!, fault: extra.SLUICE_FAULT, exited };
    slot.run = run;
    void exited.then(({ code, signal }) => this.exited(slot, run, code === null ? signal! : `exit ${code}`));
  }

  private exited(slot: Slot, run: Run, why: string): void {
    if (slot.run !== run) return;
    slot.run = undefined;
    this.o.note(`${label(slot)} (pid ${run.pid}${run.fault ? `, SLUICE_FAULT=${run.fault}` : ''}) ended: ${why}`);
    if (!slot.wanted) return;
    setTimeout(() => {
      if (!slot.wanted || slot.run) return;
      this.restarts.set(slot.topology, [...(this.restarts.get(slot.topology) ?? []), why]);
      void this.launch(slot);
    }, 1000);
  }

  private sampleRss(): void {
    for (const s of this.slots) {
      if (!s.run) continue;
      try {
        const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${s.run.pid}/status`, 'utf8'))?.[1] ?? 0);
        if (kib > (this.peakRssKiB.get(s.topology) ?? 0)) this.peakRssKiB.set(s.topology, kib);
      } catch {
        // exited in between
      }
    }
  }

  /** Waits until the slot has a process (the supervisor may be between two). */
  private async current(slot: Slot, timeoutMs = 30_000): Promise<Run | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!slot.run && slot.wanted && Date.now() < deadline) await sleep(100);
    return slot.run;
  }

  /** Sends `signal` to the slot's process; false when it has none. */
  async signal(slot: Slot, signal: NodeJS.Signals): Promise<boolean> {
    const run = await this.current(slot);
    if (!run) return false;
    this.o.note(`${signal} → ${label(slot)} (pid ${run.pid})`);
    try {
      process.kill(run.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGSTOP for `ms`, then SIGCONT. */
  async pause(slot: Slot, ms: number): Promise<void> {
    const run = await this.current(slot);
    if (!run || !(await this.signal(slot, 'SIGSTOP'))) return;
    try {
      await sleep(ms);
    } finally {
      try {
        process.kill(run.pid, 'SIGCONT');
        this.o.note(`SIGCONT → ${label(slot)} (pid ${run.pid})`);
      } catch {
        // exited meanwhile
      }
    }
  }

  /**
   * Starts the slot again with SLUICE_FAULT=<point>:<nth> (after a SIGTERM) and waits until that
   * process has killed itself, then the supervisor starts it normally. Resolves with whether the
   * point was reached within `timeoutMs`; if not, the process is stopped and started normally too.
   */
  async faultPoint(slot: Slot, point: string, nth: number, timeoutMs: number): Promise<boolean> {
    slot.once = { SLUICE_FAULT: `${point}:${nth}` };
    const before = await this.current(slot);
    if (before) {
      await this.signal(slot, 'SIGTERM');
      await before.exited;
    }
    const deadline = Date.now() + 30_000;
    while (slot.run?.fault === undefined && Date.now() < deadline) await sleep(100);
    const run = slot.run;
    if (!run?.fault) return false;
    const outcome = await Promise.race([run.exited, sleep(timeoutMs).then(() => undefined)]);
    if (outcome?.signal === 'SIGKILL') return true;
    if (!outcome) await this.signal(slot, 'SIGTERM');
    return false;
  }

  /**
   * Many membership changes of one group within ~20 s: a third instance joins, one instance is
   * stopped with SIGTERM and one killed (the supervisor starts both again), and the third leaves.
   */
  async storm(topology: string): Promise<void> {
    const [a, b] = this.instances(topology);
    const third = await this.add(topology);
    await sleep(5000);
    if (a) await this.signal(a, 'SIGTERM');
    await sleep(5000);
    if (b) await this.signal(b, 'SIGKILL');
    await sleep(10_000);
    await this.stop(third);
  }

  /** Stops a slot for good: SIGCONT (if paused), SIGTERM, SIGKILL after `graceMs`. */
  async stop(slot: Slot, graceMs = 40_000): Promise<void> {
    slot.wanted = false;
    slot.stopped = true;
    const run = slot.run;
    if (!run) return;
    try {
      process.kill(run.pid, 'SIGCONT');
      process.kill(run.pid, 'SIGTERM');
    } catch {
      return;
    }
    const done = await Promise.race([run.exited, sleep(graceMs).then(() => undefined)]);
    if (!done) {
      this.o.note(`${label(slot)} did not stop within ${graceMs / 1000} s: SIGKILL`);
      try {
        process.kill(run.pid, 'SIGKILL');
      } catch {
        // gone
      }
      await run.exited;
    }
  }

  /** Stops every process, all at once. */
  async stopAll(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.stop(s)));
    clearInterval(this.sampler);
  }

  /**
   * The processes as `pipelineStatus` (core/runtime/status.ts) takes them: every running instance for
   * /ready and /metrics, and the first instance of each topology in `groups` for its group's lag.
   */
  processes(groups: readonly string[]): PipelineProcess[] {
    const seen = new Set<string>();
    return this.slots.filter((s) => !s.stopped).map((s) => {
      const counted = groups.includes(s.topology) && !seen.has(s.topology);
      seen.add(s.topology);
      return { name: this.o.nameOf(s.topology), port: s.port, ...(counted ? { source: this.o.env.INGEST_TOPIC } : {}) };
    });
  }
}

// --- Watching it ---------------------------------------------------------------------------

export type Status = PipelineStatus & { written: number };

/** Resolves with `p`, or with undefined after `ms` (p's later error is ignored). */
export function within<T>(ms: number, p: Promise<T>): Promise<T | undefined> {
  p.catch(() => undefined);
  return Promise.race([p, sleep(ms).then(() => undefined)]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Reads the simulator's log as it grows: how many messages the broker has acknowledged to the
 * devices, and how many bad ones were sent (those go to the dead-letter topic, not to the readings).
 */
export function simProgress(file: string): () => { acked: number; bad: number } {
  let pos = 0;
  let rest = '';
  const n = { acked: 0, bad: 0 };
  return () => {
    if (!existsSync(file)) return { ...n };
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= pos) return { ...n };
      const buf = Buffer.alloc(size - pos);
      readSync(fd, buf, 0, buf.length, pos);
      pos = size;
      const lines = (rest + buf.toString('utf8')).split('\n');
      rest = lines.pop()!; // a line still being written
      for (const line of lines) {
        if (line.startsWith('{"e":"acked"')) n.acked++;
        else if (line.includes('"kind":"bad"')) n.bad++;
      }
      return { ...n };
    } finally {
      closeSync(fd);
    }
  };
}

export interface WatchOptions {
  kafka: KafkaAdapter;
  pipeline: Pipeline;
  /** The readings topic. */
  topic: string;
  /** Groups whose committed lag counts for recovery. */
  lagGroups: readonly string[];
  /** Every group, for the drain. */
  allGroups: readonly string[];
  /** The devices' progress (simProgress). */
  progress: () => { acked: number; bad: number };
  signal: AbortSignal;
}

/** The pipeline's state as the suite judges it: ready, recovered from a fault, drained. */
export function watch(o: WatchOptions) {
  /** undefined while Kafka does not answer: pipelineStatus would count a group it cannot read as lag 0. */
  const status = (groups: readonly string[]): Promise<Status | undefined> => within(10_000, (async () => {
    const written = (await o.kafka.watermarks(o.topic)).reduce((n, w) => n + Number(w.high), 0);
    return { ...(await pipelineStatus(o.pipeline.processes(groups), o.kafka)), written };
  })()).catch(() => undefined);
  const allReady = (s: Status | undefined) => s !== undefined && s.ready === s.processes;
  return {
    async untilReady(timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (!allReady(await status(o.lagGroups))) {
        if (Date.now() > deadline || o.signal.aborted) return false;
        await sleep(1000);
      }
      return true;
    },
    /** The groups' lag: the median of three looks a second apart, as it moves with each group's commits. */
    async lagLevel(): Promise<number> {
      const looks: number[] = [];
      for (let i = 0; i < 3; i++) {
        if (i > 0) await sleep(1000);
        looks.push((await status(o.lagGroups))?.uncommitted ?? 0);
      }
      return median(looks);
    },
    /**
     * Waits until every process answers /ready, every reading the broker had acknowledged to the
     * devices by now is in Kafka (while Kafka or ingest is down they wait in Mosquitto, where no
     * group's lag shows them), and the groups' lag is at most `limit`. Resolves with the ms that took,
     * undefined after `timeoutMs`.
     */
    async recovered(limit: number, timeoutMs: number): Promise<number | undefined> {
      const since = Date.now();
      const sent = o.progress();
      const owed = sent.acked - sent.bad;
      while (Date.now() - since < timeoutMs && !o.signal.aborted) {
        const s = await status(o.lagGroups);
        if (allReady(s) && s!.written >= owed && s!.uncommitted <= limit) return Date.now() - since;
        await sleep(1000);
      }
      return undefined;
    },
    /** Waits until nothing is unacknowledged and every group has committed everything, three looks in a row. */
    async drained(timeoutMs: number): Promise<{ ok: boolean; last?: Status }> {
      let calm = 0;
      let last: Status | undefined;
      const end = Date.now() + timeoutMs;
      while (calm < 3 && Date.now() < end && !o.signal.aborted) {
        last = await status(o.allGroups);
        calm = last && drained(last) ? calm + 1 : 0;
        if (calm < 3) await sleep(1000);
      }
      return { ok: calm >= 3, last };
    },
  };
}
export type Watch = ReturnType<typeof watch>;
