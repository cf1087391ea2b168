import { Observable, type OperatorFunction } from 'rxjs';
import type { InRecord } from '../topology.ts';
import { ConfigError, SluiceError } from '../errors.ts';
import { taskContext } from '../state/context.ts';
import { minutes } from '../windows.ts';

/** How a source's records get their event time. */
export interface TimeOptions<V = unknown> {
  /** Field of the value holding the event time in ms (Avro timestamp-millis). Default `time`. */
  field?: string;
  /** Replaces the field lookup: return the event time in ms, or undefined when the record has none. */
  extract?: (record: InRecord<V>) => number | undefined;
  /**
   * A record without a usable event time: `dead-letter` (default; reason `timestamp`), `fail`
   * (stop the topology), or `partition-time` (take the partition's stream time).
   */
  onMissing?: 'dead-letter' | 'fail' | 'partition-time';
  /** How far past the wall clock an event time may be, ms. Default 5 minutes. */
  maxFutureSkew?: number;
  /** Event times before this (ms since the epoch) are refused. Default 2000-01-01T00:00:00Z. */
  floor?: number;
}

const policies = ['dead-letter', 'fail', 'partition-time'];
const iso = (t: number) => (Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : `${t} ms`);

/** Checks and completes time options; an error names the field and the unit. */
export function timePolicy<V>(opts: TimeOptions<V> = {}): Required<Omit<TimeOptions<V>, 'extract'>> & Pick<TimeOptions<V>, 'extract'> {
  const p = { field: 'time', onMissing: 'dead-letter' as const, maxFutureSkew: minutes(5), floor: Date.UTC(2000, 0, 1), ...opts };
  if (!policies.includes(p.onMissing)) throw new ConfigError(`time: onMissing must be one of ${policies.join(', ')}, got ${JSON.stringify(p.onMissing)}`);
  if (!Number.isSafeInteger(p.maxFutureSkew) || p.maxFutureSkew < 0) throw new ConfigError(`time: maxFutureSkew must be a whole number of milliseconds >= 0, got ${JSON.stringify(p.maxFutureSkew)}`);
  if (!Number.isSafeInteger(p.floor)) throw new ConfigError(`time: floor must be a time in milliseconds since the epoch, got ${JSON.stringify(p.floor)}`);
  return p;
}

/**
 * Gives each record its event time and moves the partition's stream time. A record whose event
 * time is missing (per `onMissing`), beyond the wall clock plus `maxFutureSkew`, or before `floor`
 * goes to the dead-letter topic with reason `timestamp` and does not move stream time.
 * The runtime applies it before every pipeline, with the source's `time` options.
 */
export function eventTime<V>(opts: TimeOptions<V> = {}): OperatorFunction<InRecord<V>, InRecord<V>> {
  const policy = timePolicy(opts);
  const read = policy.extract ?? ((r: InRecord<V>) => {
    const t = (r.value as Record<string, unknown> | null)?.[policy.field];
    return typeof t === 'number' ? t : undefined;
  });
  return (source) => {
    const ctx = taskContext('eventTime');
    return new Observable<InRecord<V>>((subscriber) => source.subscribe({
      next: (r) => {
        let t = read(r);
        if (t === undefined || !Number.isFinite(t)) {
          const why = `no event time in ${policy.extract ? 'the extractor\'s result' : `field "${policy.field}"`}`;
          if (policy.onMissing === 'fail') return subscriber.error(new SluiceError(`${why} (time.onMissing is "fail")`));
          if (policy.onMissing === 'dead-letter') return ctx.deadLetter(r, 'timestamp', new Error(why));
          t = Number.isFinite(ctx.streamTime()) ? ctx.streamTime() : r.timestamp;
        }
        const now = ctx.now();
        if (t > now + policy.maxFutureSkew) {
          return ctx.deadLetter(r, 'timestamp', new Error(`event time ${iso(t)} is more than ${policy.maxFutureSkew} ms ahead of the wall clock (${iso(now)})`));
        }
        if (t < policy.floor) {
          return ctx.deadLetter(r, 'timestamp', new Error(`event time ${iso(t)} is before the floor ${iso(policy.floor)}`));
        }
        ctx.observe(t);
        subscriber.next(t === r.eventTime ? r : { ...r, eventTime: t });
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    }));
  };
}
