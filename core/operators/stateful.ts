import { Observable, type OperatorFunction } from 'rxjs';
import type { InRecord } from '../topology.ts';
import type { KeyValueStore } from '../state/store.ts';
import { ConfigError } from '../errors.ts';
import { taskContext } from '../state/context.ts';

export interface StatefulOptions<V, S, O> {
  /** Name of the state store (and of its changelog topic `<topology>-<store>-changelog`). */
  store: string;
  /**
   * Called for each record, in offset order, with the partition's store and the wall clock; `emit`
   * outputs. `replay`: set in a replay (`bin/replay`) whose range may follow earlier records, the
   * event times it covers: the store starts empty there, so state that began before `from` is unknown.
   */
  onRecord(record: InRecord<V>, store: KeyValueStore<S>, emit: (out: O) => void, now: number, replay: { from: number; to: number } | undefined): void;
  /** Called at each wall-clock tick of the runtime (or the test driver), e.g. for "no data for N minutes". */
  onWallClock?(now: number, store: KeyValueStore<S>, emit: (out: O) => void): void;
}

/**
 * Keyed processing with a state store that survives restarts and rebalances (for rules such as alert
 * hysteresis). The functions must be deterministic in their inputs for a restart to repeat a run.
 */
export function stateful<V, S, O>(opts: StatefulOptions<V, S, O>): OperatorFunction<InRecord<V>, O> {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(opts.store ?? '')) throw new ConfigError(`stateful: store must match /^[a-z][a-z0-9-]{0,62}$/, got ${JSON.stringify(opts.store)}`);
  return (source) => {
    const ctx = taskContext('stateful');
    const store = ctx.store<S>(opts.store);
    return new Observable<O>((subscriber) => {
      const emit = (out: O) => subscriber.next(out);
      const guarded = (fn: () => void) => {
        try {
          fn();
        } catch (err) {
          subscriber.error(err);
        }
      };
      const onWallClock = opts.onWallClock;
      const replay = ctx.replayed.from === -Infinity ? undefined : ctx.replayed;
      const timer = onWallClock && ctx.wallClock.subscribe((now) => guarded(() => onWallClock(now, store, emit)));
      const sub = source.subscribe({
        next: (r) => guarded(() => opts.onRecord(r, store, emit, ctx.now(), replay)),
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
