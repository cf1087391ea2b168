import type { KafkaAdapter } from '../kafka/adapter.ts';
import { iso } from './time.ts';

export interface PartitionPlan {
  partition: number;
  /** First offset to read. */
  start: string;
  /** Offset the replay stops before, fixed when it is planned. */
  end: string;
  records: bigint;
  /** Set when records of the range were deleted (retention): the time of the first record still in Kafka. */
  goneBefore?: number;
}

export interface ReplayPlan {
  topic: string;
  /** ms since the epoch; the range is [from, to), by Kafka record timestamp. */
  from: number;
  /** Undefined: up to the end of each partition at planning time. */
  to?: number;
  partitions: PartitionPlan[];
  records: bigint;
}

/**
 * Per partition: the offsets of the first records at or after `from` and `to` (Kafka's
 * ListOffsets by timestamp), the number of offsets between them, and whether the log no longer
 * starts early enough (its first record is later than `from` and earlier offsets were deleted).
 */
export async function planReplay(kafka: Pick<KafkaAdapter, 'watermarks' | 'offsetsForTime' | 'firstTimestamps'>, topic: string, range: { from: number; to?: number }): Promise<ReplayPlan> {
  const marks = await kafka.watermarks(topic);
  const starts = await kafka.offsetsForTime(topic, range.from);
  const ends = range.to === undefined ? undefined : await kafka.offsetsForTime(topic, range.to);
  const partitions = marks.sort((a, b) => a.partition - b.partition).map((w): PartitionPlan => {
    const max = (a: bigint, b: bigint) => (a > b ? a : b);
    const start = max(BigInt(starts.get(w.partition) ?? w.high), BigInt(w.low));
    const end = max(BigInt(ends?.get(w.partition) ?? w.high), start);
    return { partition: w.partition, start: start.toString(), end: end.toString(), records: end - start };
  });
  // Only a partition whose range begins at its log start, after deleted offsets, may have lost part of it.
  const suspect = partitions.filter((p) => {
    const w = marks.find((m) => m.partition === p.partition)!;
    return BigInt(w.low) > 0n && p.start === w.low;
  });
  const first = await kafka.firstTimestamps(topic, suspect.map((p) => p.partition));
  for (const p of suspect) {
    const t = first.get(p.partition);
    // An emptied log: everything up to its end is gone; say so with the time of the plan's start.
    p.goneBefore = t === undefined ? Date.now() : t;
    if (p.goneBefore <= range.from) delete p.goneBefore;
  }
  return { topic, ...range, partitions, records: partitions.reduce((n, p) => n + p.records, 0n) };
}

/** The plan as a table, with a line for each partition whose range is partly gone. */
export function formatPlan(plan: ReplayPlan): string {
  const rows = [['partition', 'start offset', 'end offset', 'records'], ...plan.partitions.map((p) => [String(p.partition), p.start, p.end, p.records.toString()])];
  rows.push(['total', '', '', plan.records.toString()]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
  const range = `from ${iso(plan.from)} to ${plan.to === undefined ? 'the end offsets of now' : iso(plan.to)}`;
  const gone = plan.partitions.filter((p) => p.goneBefore !== undefined);
  const notes = gone.length === 0 ? [] : [
    `data before ${iso(Math.max(...gone.map((p) => p.goneBefore!)))} is no longer in Kafka (retention): ${gone.map((p) => `partition ${p.partition} starts at offset ${p.start}, ${iso(p.goneBefore!)}`).join('; ')}`,
  ];
  return [`replay of ${plan.topic} ${range} (Kafka record timestamps)`, ...table, ...notes].join('\n');
}
