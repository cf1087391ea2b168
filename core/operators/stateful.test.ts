import { TestScheduler } from 'rxjs/testing';
import { stateful } from './stateful.ts';
import { TaskContext, withTaskContext } from '../state/context.ts';
import { at, T0, MIN } from './testing.ts';

let scheduler: TestScheduler;
beforeEach(() => (scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))));

// Counts records per key and reports, at each wall-clock tick, the keys silent for 5 minutes.
const counter = stateful<{ time: number; v: number }, { n: number; seen: number }, string>({
  store: 'counts',
  onRecord: (r, store, emit) => {
    const n = (store.get(r.key!)?.n ?? 0) + 1;
    store.put(r.key!, { n, seen: r.eventTime });
    emit(`${r.key}=${n}`);
  },
  onWallClock: (now, store, emit) => {
    for (const [k, s] of store.entries()) if (now - s.seen >= 5 * MIN) emit(`${k} silent`);
  },
});

test('state per key survives between records; wall-clock ticks see it', () => {
  scheduler.run(({ cold, hot, expectObservable }) => {
    const ctx = new TaskContext('t', 0, () => T0 + scheduler.now());
    hot('6m t').subscribe(() => ctx.tick(ctx.now()));
    expectObservable(withTaskContext(ctx, () => counter(cold('a-b-c', { a: at(0, 'k1'), b: at(0.5, 'k2'), c: at(0.6, 'k1') })))).toBe('a-b-c 359995ms (tu)', {
      a: 'k1=1', b: 'k2=1', c: 'k1=2', t: 'k1 silent', u: 'k2 silent',
    });
    scheduler.flush();
    expect(ctx.store<{ n: number }>('counts').get('k1')!.n).toBe(2);
  });
});

test('a throwing function errors the stream; empty passes through', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const boom = stateful({ store: 's', onRecord: () => { throw new Error('boom'); } });
    expectObservable(withTaskContext(new TaskContext('t', 0), () => boom(cold('a', { a: at(0) })))).toBe('#', undefined, new Error('boom'));
    expectObservable(withTaskContext(new TaskContext('t', 0), () => counter(cold('|')))).toBe('|');
  });
});
