import type { RawBatch } from '../kafka/adapter.ts';

/**
 * End offsets of a bounded run (a replay): each partition is read up to, not including, its end;
 * `finished` resolves once every partition has been processed up to its end.
 */
export class EndOffsets {
  private readonly ends: Map<number, bigint>;
  private readonly pending: Set<number>;
  private resolve: () => void = () => undefined;
  readonly finished = new Promise<void>((res) => (this.resolve = res));

  /** `starts`: where partitions begin; those that begin at their end have nothing to read. */
  constructor(ends: ReadonlyMap<number, string>, starts: ReadonlyMap<number, string> = new Map()) {
    this.ends = new Map([...ends].map(([p, o]) => [p, BigInt(o)]));
    this.pending = new Set(this.ends.keys());
    for (const [p, o] of starts) this.reached(p, o);
    if (this.pending.size === 0) this.resolve();
  }

  /** The records of `batch` before its partition's end (none for a partition without an end). */
  clip(batch: RawBatch): RawBatch {
    const end = this.ends.get(batch.partition);
    if (end === undefined) return { ...batch, records: [] };
    return { ...batch, records: batch.records.filter((r) => BigInt(r.offset) < end) };
  }

  /** Call once what came before `nextOffset` is processed and its outputs are durable. */
  reached(partition: number, nextOffset: string): void {
    const end = this.ends.get(partition);
    if (end === undefined || BigInt(nextOffset) < end || !this.pending.delete(partition)) return;
    if (this.pending.size === 0) this.resolve();
  }

  /** How far `partition` has to go: its end offset. */
  end(partition: number): bigint | undefined {
    return this.ends.get(partition);
  }
}
