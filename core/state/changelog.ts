import type { OutgoingRecord } from '../kafka/adapter.ts';
import { SluiceError } from '../errors.ts';
import type { KeyValueStore } from './store.ts';

/**
 * A changelog holds one record per changed key (value = JSON, or null when deleted) and, after
 * the changes of each write, a position record: the source offset the store includes everything
 * before, and the task's stream time. Restoring stops at the last position record, so a flush cut
 * short by a crash is ignored as a whole, and the source records it covered are processed again.
 */
export const POSITION_KEY = '\u0000sluice.position';

export interface Position {
  /** The next source offset to process. */
  offset: string;
  /** Stream time of the task, ms; null before the first record. */
  streamTime: number | null;
}

export function changelogRecords(store: KeyValueStore<unknown>, partition: number, position: Position): OutgoingRecord[] {
  const out: OutgoingRecord[] = [];
  for (const [key, value] of store.drain()) {
    let json: string;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      throw new SluiceError(`store ${store.name}: the value for key ${JSON.stringify(key)} cannot be written to the changelog: ${(err as Error).message}`, { cause: err });
    }
    out.push({ key, value: value === undefined ? null : Buffer.from(json), partition });
  }
  // Written even without changes: records since the last position may have moved stream time.
  out.push({ key: POSITION_KEY, value: Buffer.from(JSON.stringify(position)), partition });
  return out;
}

/**
 * Rebuilds a store from its changelog, fed in offset order, one batch at a time. Entries after the
 * last position record belong to an unfinished flush and are dropped.
 */
export class ChangelogRestore {
  private pending: [string, unknown][] = [];
  position: Position | undefined;
  records = 0;

  private readonly store: KeyValueStore<unknown>;

  constructor(store: KeyValueStore<unknown>) {
    this.store = store;
  }

  apply(records: Iterable<{ key: Buffer | null; value: Buffer | null }>): void {
    for (const r of records) {
      this.records += 1;
      const key = r.key?.toString() ?? '';
      if (key === POSITION_KEY) {
        for (const [k, v] of this.pending) this.store.restore(k, v);
        this.pending = [];
        this.position = JSON.parse(r.value!.toString()) as Position;
      } else {
        this.pending.push([key, r.value === null ? undefined : JSON.parse(r.value.toString())]);
      }
    }
  }
}
