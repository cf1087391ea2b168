import type { ReplayPlan } from './plan.ts';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.ceil(seconds);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** How far a replay is through its plan: offsets done per partition, records/s since the start, ETA. */
export class ReplayProgress {
  private readonly plan: ReplayPlan;
  private started: number;
  private readonly reached = new Map<number, bigint>();

  constructor(plan: ReplayPlan, started: number) {
    this.plan = plan;
    this.started = started;
  }

  /** Rates count from here (after the topology started). */
  restart(now: number): void {
    this.started = now;
  }

  /** A batch of `partition` was committed; it resumes at `nextOffset`. */
  update(partition: number, nextOffset: string): void {
    this.reached.set(partition, BigInt(nextOffset));
  }

  /** Offsets of the plan processed so far. */
  done(): number {
    let n = 0n;
    for (const p of this.plan.partitions) {
      const at = this.reached.get(p.partition) ?? BigInt(p.start);
      const end = BigInt(p.end);
      n += (at < end ? at : end) - BigInt(p.start);
    }
    return Number(n);
  }

  /** `[#####.....]  52%  5,200/10,000 records  1,300 records/s  ETA 4s` */
  line(now: number): string {
    const total = Number(this.plan.records);
    const done = this.done();
    const share = total === 0 ? 1 : done / total;
    const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.');
    const rate = done / Math.max(0.001, (now - this.started) / 1000);
    return `[${bar}] ${String(Math.floor(share * 100)).padStart(3)}%  ${fmt(done)}/${fmt(total)} records  ${fmt(rate)} records/s  ETA ${duration(rate > 0 ? (total - done) / rate : Infinity)}`;
  }

  /** One line for the end of the replay. */
  summary(now: number): string {
    const seconds = (now - this.started) / 1000;
    return `replayed ${fmt(this.done())} records of ${this.plan.topic} in ${duration(seconds)} (${fmt(this.done() / Math.max(0.001, seconds))} records/s)`;
  }
}
