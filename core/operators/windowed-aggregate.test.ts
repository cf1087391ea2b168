import { TestScheduler } from 'rxjs/testing';
import type { Observable } from 'rxjs';
import { windowedAggregate, type WindowedAggregateOptions, type WindowedResult } from './windowed-aggregate.ts';
import { eventTime } from './event-time.ts';
import { TaskContext, withTaskContext } from '../state/context.ts';
import { TimeWindows, hours, minutes } from '../windows.ts';
import type { InRecord } from '../topology.ts';
import { at, T0, MIN } from './testing.ts';

type R = InRecord<{ time: number; v: number }>;
let scheduler: TestScheduler;
beforeEach(() => (scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))));

const hourly = TimeWindows.tumbling({ size: hours(1), grace: minutes(10) });
const count = (opts: Partial<WindowedAggregateOptions<{ time: number; v: number }, number>> = {}) => windowedAggregate<{ time: number; v: number }, number>({
  store: 'counts', window: hourly, initial: () => 0, add: (n) => n + 1, emit: 'final', buffer: { maxWindows: 100, whenFull: 'fail' }, ...opts,
});
// Wall clock: 11:30 + virtual frames, so that event times up to 11:35 pass the future-skew check.
const context = () => new TaskContext('t', 0, () => T0 + 90 * MIN + scheduler.now());
const run = (ctx: TaskContext, src: Observable<R>, op = count()) => withTaskContext(ctx, () => src.pipe(eventTime(), op));
const result = (key: string, hour: number, value: number, final = true): WindowedResult<number> =>
  ({ key, start: T0 + hours(hour), end: T0 + hours(hour + 1), value, final });

test('windows are half-open and close at end + grace, one final result per key', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const ctx = context();
    // minutes after 10:00:   0     59.99    60       69.99      70
    const src = cold('       a-----b--------c--------d----------e|', { a: at(0), b: at(59.99), c: at(60), d: at(69.99, 'k2'), e: at(70, 'k2') });
    // windows: a, b in [10:00, 11:00); c, d, e in [11:00, 12:00); [10:00, 11:00) closes when stream time reaches 11:10 (e)
    expectObservable(run(ctx, src)).toBe('35ms x|', { x: result('k1', 0, 2) });
    scheduler.flush();
    expect([...ctx.store('counts').entries()].map(([k]) => k).sort()).toEqual([`${T0 + hours(1)}|k1`, `${T0 + hours(1)}|k2`]);
  });
});

test('a record for a closed window is late: dead letter "late", no output, state untouched', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const ctx = context();
    // a at 10:30; b at 11:10 closes [10:00, 11:00); c at 10:45 is late; d at 11:05 is within [11:00, 12:00)
    const src = cold('a-b-c-d|', { a: at(30), b: at(70), c: at(45), d: at(65) });
    expectObservable(run(ctx, src)).toBe('--x----|', { x: result('k1', 0, 1) });
    scheduler.flush();
    expect(ctx.deadLetters.map((d) => [d.record.offset, d.reason])).toEqual([['45000', 'late']]);
    expect(ctx.deadLetters[0]!.error.message).toContain('window [2026-11-27T10:00:00.000Z, 2026-11-27T11:00:00.000Z) closed');
    expect(ctx.store<{ a: number }>('counts').get(`${T0 + hours(1)}|k1`)!.a).toBe(2);
  });
});

test('emitLate: a late record is also emitted, with its closed windows', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const ctx = context();
    const src = cold('a-b-c|', { a: at(30), b: at(70), c: at(45) });
    const op = windowedAggregate<{ time: number; v: number }, number>({
      store: 'counts', window: hourly, initial: () => 0, add: (n) => n + 1, emit: 'final', buffer: { maxWindows: 100, whenFull: 'fail' }, emitLate: true,
    });
    expectObservable(withTaskContext(ctx, () => src.pipe(eventTime(), op))).toBe('--x-l|', {
      x: result('k1', 0, 1), l: { late: true, record: { ...at(45) }, windows: [{ start: T0, end: T0 + hours(1) }] },
    });
    scheduler.flush();
    expect(ctx.deadLetters.map((d) => d.reason)).toEqual(['late']);
  });
});

test('grace: a record inside the grace period still counts', () => {
  scheduler.run(({ cold, expectObservable }) => {
    // b at 11:09:59 keeps [10:00, 11:00) open; c (10:50) still counts; d at 11:10 closes it
    const src = cold('a-b-c-d|', { a: at(10), b: at(69.99), c: at(50), d: at(70) });
    expectObservable(run(context(), src)).toBe('------x|', { x: result('k1', 0, 2) });
  });
});

test('idle timeout: a quiet partition closes its windows as if event time kept pace with the wall clock', () => {
  scheduler.run(({ cold, hot, expectObservable }) => {
    const ctx = context();
    // one record at 10:59, then silence. Window [10:00, 11:00) closes at 11:10 = 11 min of extrapolated time.
    const src = cold('a', { a: at(59) });
    // wall-clock ticks at +4 min (not idle yet), +6 min (idle: 11:05 < 11:10), +11 min (11:10: closes)
    for (const at of ['4m t', '6m t', '11m t']) hot(at).subscribe(() => ctx.tick(ctx.now()));
    expectObservable(run(ctx, src, count({ idleTimeout: minutes(5) }))).toBe('11m x', { x: result('k1', 0, 1) });
  });
  scheduler.run(({ cold, hot, expectObservable }) => {
    const ctx = context();
    hot('20m t').subscribe(() => ctx.tick(ctx.now()));
    // without an idle timeout nothing closes
    expectObservable(run(ctx, cold('a', { a: at(59) }))).toBe('');
  });
});

test('emit on update: a result after every change, none at close', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const src = cold('a-b-c|', { a: at(1), b: at(2), c: at(75) });
    expectObservable(run(context(), src, count({ emit: 'update' }))).toBe('a-b-c|', { a: result('k1', 0, 1, false), b: result('k1', 0, 2, false), c: result('k1', 1, 1, false) });
  });
});

test('hopping windows: a record counts in each window it falls in', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const window = TimeWindows.hopping({ size: minutes(20), advance: minutes(10), grace: 0 });
    // a at 10:05 is in [09:50, 10:10) and [10:00, 10:20); b at 10:15 closes [09:50, 10:10)
    const src = cold('a-b|', { a: at(5), b: at(15) });
    expectObservable(run(context(), src, count({ window }))).toBe('--x|', { x: { key: 'k1', start: T0 - minutes(10), end: T0 + minutes(10), value: 1, final: true } });
  });
});

test('a full buffer does what the configuration says', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const ctx = context();
    const src = cold('a-b-c|', { a: at(1, 'k1'), b: at(2, 'k2'), c: at(3, 'k1') });
    expectObservable(run(ctx, src, count({ buffer: { maxWindows: 1, whenFull: 'dead-letter' } }))).toBe('-----|');
    scheduler.flush();
    expect(ctx.deadLetters.map((d) => d.reason)).toEqual(['buffer-full']);
  });
});

test('a full buffer can also stop the topology', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const failing = cold('a-b|', { a: at(1, 'k1'), b: at(2, 'k2') });
    expectObservable(run(context(), failing, count({ buffer: { maxWindows: 1, whenFull: 'fail' } }))).toBe('--#', undefined, expect.objectContaining({ message: 'windowedAggregate(counts): 1 windows are open (buffer.maxWindows)' }));
  });
});

test('empty, erroring and throwing: nothing emitted, errors passed on; unsubscribing stops the idle timer', () => {
  scheduler.run(({ cold, hot, expectObservable }) => {
    expectObservable(run(context(), cold('|'))).toBe('|');
    expectObservable(run(context(), cold('a-#', { a: at(1) }))).toBe('--#');
    const boom = count({ add: () => { throw new Error('boom'); } });
    expectObservable(run(context(), cold('a', { a: at(1) }), boom)).toBe('#', undefined, new Error('boom'));
    const ctx = context();
    hot('20m t').subscribe(() => ctx.tick(ctx.now()));
    expectObservable(run(ctx, cold('a', { a: at(59) }), count({ idleTimeout: 1 })), '^ 1m !').toBe('');
  });
});

test('options are validated, naming the field', () => {
  expect(() => count({ buffer: undefined as never })).toThrow('windowedAggregate(counts): buffer.maxWindows must be a whole number >= 1, got undefined');
  expect(() => count({ emit: 'sometimes' as never })).toThrow('emit must be "final" or "update"');
  expect(() => count({ idleTimeout: 0 })).toThrow('idleTimeout must be a whole number of milliseconds >= 1, got 0');
  expect(() => count({ store: 'Bad Name' })).toThrow('store must match');
});

test('in a replay, windows the replayed range covers only in part are not emitted', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const ctx = new TaskContext('t', 0, () => T0 + hours(5)); // a replay runs after the fact
    // The replay covers event times [10:30, 12:10): [10:00, 11:00) started before it, and
    // [12:00, 13:00) closes (13:10) after it; only [11:00, 12:00), closing at 12:10, is complete.
    ctx.replayed = { from: T0 + minutes(30), to: T0 + hours(2) + minutes(10) };
    const src = cold('a-b-c-d|', { a: at(40), b: at(70), c: at(130), d: at(200) });
    expectObservable(run(ctx, src)).toBe('----x--|', { x: result('k1', 1, 1) });
  });
});
