import { TestScheduler } from 'rxjs/testing';
import { eventTime, timePolicy } from './event-time.ts';
import { TaskContext, withTaskContext } from '../state/context.ts';
import { at, T0, MIN } from './testing.ts';
import { SluiceError } from '../errors.ts';
import type { InRecord } from '../topology.ts';

type R = InRecord<{ time?: number; v: number }>;
let scheduler: TestScheduler;
beforeEach(() => (scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))));

// The wall clock of these tests is T0 + 30 min + virtual frames.
const context = () => new TaskContext('t', 0, () => T0 + 30 * MIN + scheduler.now());
const reasons = (ctx: TaskContext) => ctx.deadLetters.map((d) => [d.record.offset, d.reason]);

test('stream time is the largest event time seen and never moves back', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const ctx = context();
    const src = cold<R>('a-b-c|', { a: at(5), b: at(2), c: at(7) });
    expectObservable(withTaskContext(ctx, () => src.pipe(eventTime())), '^').toBe('a-b-c|', { a: at(5), b: at(2), c: at(7) });
    scheduler.flush();
    expect(ctx.streamTime()).toBe(T0 + 7 * MIN);
  });
});

test('future beyond the skew, before the floor, or missing: dead letter "timestamp", stream time unmoved', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const ctx = context();
    const noTime = { ...at(1), offset: 'x', value: { v: 1 } } as R;
    //      a: 10:05 ok · f: 10:36 (wall 10:30 + 6 min > 5 min skew) · o: 1999 · m: no time · b: 10:34:59 (within skew)
    const src = cold<R>('a-f-o-m-b|', { a: at(5), f: at(36), o: { ...at(0), offset: 'o', value: { time: Date.UTC(1999, 11, 31), v: 1 } } as R, m: noTime, b: at(34.99) });
    expectObservable(withTaskContext(ctx, () => src.pipe(eventTime()))).toBe('a-------b|', { a: at(5), b: at(34.99) });
    scheduler.flush();
    expect(reasons(ctx)).toEqual([['36000', 'timestamp'], ['o', 'timestamp'], ['x', 'timestamp']]);
    expect(ctx.deadLetters[0]!.error.message).toMatch(/2026-11-27T10:36:00.000Z is more than 300000 ms ahead of the wall clock/);
    expect(ctx.deadLetters[2]!.error.message).toBe('no event time in field "time"');
    expect(ctx.streamTime()).toBe(at(34.99).eventTime);
  });
});

test('onMissing: partition-time takes stream time; fail errors the stream', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const ctx = context();
    const missing = { ...at(0), value: { v: 2 } } as R;
    const src = cold<R>('a-m|', { a: at(5), m: missing });
    expectObservable(withTaskContext(ctx, () => src.pipe(eventTime({ onMissing: 'partition-time' })))).toBe('a-m|', { a: at(5), m: { ...missing, eventTime: T0 + 5 * MIN } });
    const failing = cold<R>('a-m|', { a: at(5), m: missing });
    expectObservable(withTaskContext(context(), () => failing.pipe(eventTime({ onMissing: 'fail' })))).toBe('a-#', { a: at(5) }, new SluiceError('no event time in field "time" (time.onMissing is "fail")'));
  });
});

test('an extractor replaces the field; empty and erroring sources pass through', () => {
  scheduler.run(({ cold, expectObservable }) => {
    const ctx = context();
    const src = cold<R>('a|', { a: at(5) });
    expectObservable(withTaskContext(ctx, () => src.pipe(eventTime({ extract: (r) => r.timestamp - MIN })))).toBe('a|', { a: { ...at(5), eventTime: T0 + 4 * MIN } });
    expectObservable(withTaskContext(ctx, () => cold<R>('|').pipe(eventTime()))).toBe('|');
    expectObservable(withTaskContext(ctx, () => cold<R>('#').pipe(eventTime()))).toBe('#');
  });
});

test('options are checked: the message names the field and unit', () => {
  expect(() => timePolicy({ maxFutureSkew: -1 })).toThrow('time: maxFutureSkew must be a whole number of milliseconds >= 0, got -1');
  expect(() => timePolicy({ onMissing: 'drop' as never })).toThrow('time: onMissing must be one of dead-letter, fail, partition-time, got "drop"');
});
