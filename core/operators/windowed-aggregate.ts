import { Observable, type OperatorFunction } from 'rxjs';
import type { InRecord } from '../topology.ts';
import { ConfigError, SluiceError } from '../errors.ts';
import { taskContext } from '../state/context.ts';
import { faultPoint } from '../fault.ts';
import { isClosed, windowsFor, type Window, type WindowSpec } from '../windows.ts';

export interface WindowedAggregateOptions<V, A> {
  /** Name of the state store (and of its changelog topic `<topology>-<store>-changelog`). */
  store: string;
  window: WindowSpec;
  /** The grouping key; default: the record's Kafka key. Records without a key are dead-lettered (reason `key`). */
  key?: (record: InRecord<V>) => string | null;
  initial: () => A;
  add: (aggregate: A, record: InRecord<V>) => A;
  /** `final`: one result per key and window, when it closes. `update`: a result after every change. */
  emit: 'final' | 'update';
  /** Open windows a partition may hold, and what a record that would open one more does then. */
  buffer: { maxWindows: number; whenFull: 'fail' | 'dead-letter' };
  /**
   * Opt-in, wall-clock ms: once a partition has had no record for this long, its stream time is
   * taken to advance with the wall clock from its last record, so the windows of a quiet partition
   * (or of a device that went silent) still close and emit.
   */
  idleTimeout?: number;
  /** Also emit each late record (as a `LateRecord`), e.g. to repair what its window already emitted. */
  emitLate?: boolean;
}

/** An aggregate of one key over the window [start, end), ms. */
export interface WindowedResult<A> {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly value: A;
  /** True for the result emitted at the window's close. */
  readonly final: boolean;
}

/** A record that arrived after its window closed (only with `emitLate`); it is dead-lettered as well. */
export interface LateRecord<V> {
  readonly late: true;
  readonly record: InRecord<V>;
  /** Its closed windows. */
  readonly windows: readonly Window[];
}

interface Entry<A> { k: string; s: number; a: A }

function validate(o: WindowedAggregateOptions<unknown, unknown>): void {
  const where = `windowedAggregate(${o.store})`;
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(o.store ?? '')) throw new ConfigError(`${where}: store must match /^[a-z][a-z0-9-]{0,62}$/, got ${JSON.stringify(o.store)}`);
  if (o.emit !== 'final' && o.emit !== 'update') throw new ConfigError(`${where}: emit must be "final" or "update", got ${JSON.stringify(o.emit)}`);
  if (!Number.isSafeInteger(o.buffer?.maxWindows) || o.buffer.maxWindows < 1) throw new ConfigError(`${where}: buffer.maxWindows must be a whole number >= 1, got ${JSON.stringify(o.buffer?.maxWindows)}`);
  if (o.buffer.whenFull !== 'fail' && o.buffer.whenFull !== 'dead-letter') throw new ConfigError(`${where}: buffer.whenFull must be "fail" or "dead-letter", got ${JSON.stringify(o.buffer.whenFull)}`);
  if (o.idleTimeout !== undefined && (!Number.isSafeInteger(o.idleTimeout) || o.idleTimeout < 1)) throw new ConfigError(`${where}: idleTimeout must be a whole number of milliseconds >= 1, got ${JSON.stringify(o.idleTimeout)}`);
}

/**
 * Keyed aggregation over event-time windows, kept in a state store. A window closes when the
 * partition's stream time reaches its end plus the grace period; a record whose window has closed
 * is late: it goes to the dead-letter topic with reason `late` (it still counts in its other,
 * open, hopping windows). Closed windows leave the store. Results of windows closing together are
 * emitted in key order, so a rerun emits the same sequence.
 */
export function windowedAggregate<V, A>(opts: WindowedAggregateOptions<V, A> & { emitLate: true }): OperatorFunction<InRecord<V>, WindowedResult<A> | LateRecord<V>>;
export function windowedAggregate<V, A>(opts: WindowedAggregateOptions<V, A>): OperatorFunction<InRecord<V>, WindowedResult<A>>;
export function windowedAggregate<V, A>(opts: WindowedAggregateOptions<V, A>): OperatorFunction<InRecord<V>, WindowedResult<A> | LateRecord<V>> {
  validate(opts as WindowedAggregateOptions<unknown, unknown>);
  const { window: spec, buffer } = opts;
  const keyOf = opts.key ?? ((r: InRecord<V>) => r.key);
  return (source) => {
    const ctx = taskContext('windowedAggregate');
    const store = ctx.store<Entry<A>>(opts.store);
    // Open windows by end time, rebuilt from the store on first use (after a restore).
    let byEnd: Map<number, Set<string>> | undefined;
    const index = () => {
      if (!byEnd) {
        byEnd = new Map();
        for (const [id, e] of store.entries()) track(e.s + spec.size, id);
      }
      return byEnd;
    };
    /** False for a window a replay covers only in part: emitting it would overwrite the complete result. */
    const complete = (start: number, end: number) => start >= ctx.replayed.from && end + spec.grace <= ctx.replayed.to;
    const track = (end: number, id: string) => {
      const set = byEnd!.get(end);
      if (set) set.add(id);
      else byEnd!.set(end, new Set([id]));
    };

    return new Observable<WindowedResult<A> | LateRecord<V>>((subscriber) => {
      const closeUpTo = (streamTime: number) => {
        const open = index();
        let any = false;
        for (const end of open.keys()) if ((any = isClosed(spec, { start: end - spec.size, end }, streamTime))) break;
        if (!any) return;
        const due = [...open.keys()].filter((end) => isClosed(spec, { start: end - spec.size, end }, streamTime)).sort((a, b) => a - b);
        for (const end of due) {
          const entries = [...open.get(end)!].map((id) => [id, store.get(id)!] as const).sort(([, a], [, b]) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
          open.delete(end);
          for (const [id, e] of entries) {
            store.delete(id);
            if (opts.emit === 'final' && complete(e.s, end)) subscriber.next({ key: e.k, start: e.s, end, value: e.a, final: true });
          }
        }
        faultPoint('windows.closed'); // for kill tests at a window boundary
      };

      const onRecord = (r: InRecord<V>) => {
        const key = keyOf(r);
        if (key === null) return ctx.deadLetter(r, 'key', new Error(`windowedAggregate(${opts.store}) needs a key; the record has none`));
        const streamTime = ctx.streamTime();
        const late: Window[] = [];
        for (const w of windowsFor(spec, r.eventTime)) {
          if (isClosed(spec, w, streamTime)) {
            late.push(w);
            continue;
          }
          const id = `${w.start}|${key}`;
          let entry = store.get(id);
          if (!entry) {
            if (store.size >= buffer.maxWindows) {
              const msg = `windowedAggregate(${opts.store}): ${buffer.maxWindows} windows are open (buffer.maxWindows)`;
              if (buffer.whenFull === 'fail') throw new SluiceError(msg);
              ctx.deadLetter(r, 'buffer-full', new Error(msg));
              return;
            }
            entry = { k: key, s: w.start, a: opts.initial() };
            index();
            track(w.end, id);
          }
          const next = { k: key, s: w.start, a: opts.add(entry.a, r) };
          store.put(id, next);
          if (opts.emit === 'update' && complete(w.start, w.end)) subscriber.next({ key, start: w.start, end: w.end, value: next.a, final: false });
        }
        if (late.length > 0) {
          const names = late.map((w) => `[${new Date(w.start).toISOString()}, ${new Date(w.end).toISOString()})`).join(', ');
          ctx.deadLetter(r, 'late', new Error(`window ${names} closed: stream time ${new Date(streamTime).toISOString()} passed its end + grace (${spec.grace} ms)`));
          if (opts.emitLate) subscriber.next({ late: true, record: r, windows: late });
        }
        closeUpTo(streamTime);
      };

      const idle = opts.idleTimeout;
      const timer = idle === undefined ? undefined : ctx.wallClock.subscribe((now) => {
        if (ctx.idleFor(now) < idle || !Number.isFinite(ctx.streamTime())) return;
        ctx.advanceStreamTime(ctx.idleStreamTime(now));
        try {
          closeUpTo(ctx.streamTime());
        } catch (err) {
          subscriber.error(err);
        }
      });
      const sub = source.subscribe({
        next: (r) => {
          try {
            onRecord(r);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        sub.unsubscribe();
        timer?.unsubscribe();
      };
    });
  };
}
