import { ConfigError } from './errors.ts';

/** Durations are milliseconds; these say which unit a literal is in. */
export const seconds = (n: number) => n * 1000;
export const minutes = (n: number) => n * 60_000;
export const hours = (n: number) => n * 3_600_000;

/** An epoch-aligned window, half-open: it holds event times t with start <= t < end (ms). */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** An immutable window specification; build it with `TimeWindows.tumbling` or `TimeWindows.hopping`. */
export interface WindowSpec {
  readonly kind: 'tumbling' | 'hopping';
  /** Length of a window, ms. */
  readonly size: number;
  /** Distance between the starts of consecutive windows, ms (= size for tumbling windows). */
  readonly advance: number;
  /** How long after its end a window still accepts records, in stream time, ms. */
  readonly grace: number;
}

function millis(kind: string, field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${kind} window: ${field} must be a whole number of milliseconds >= ${min} (e.g. minutes(10)), got ${JSON.stringify(value)}`);
  }
  return value;
}

export const TimeWindows = {
  /** Consecutive windows of `size` ms: [0, size), [size, 2·size), … `grace` is required (0 is allowed). */
  tumbling(opts: { size: number; grace: number }): WindowSpec {
    const size = millis('tumbling', 'size', opts.size, 1);
    return Object.freeze({ kind: 'tumbling', size, advance: size, grace: millis('tumbling', 'grace', opts.grace, 0) });
  },
  /** Windows of `size` ms starting every `advance` ms; a record belongs to size/advance of them. */
  hopping(opts: { size: number; advance: number; grace: number }): WindowSpec {
    const size = millis('hopping', 'size', opts.size, 1);
    const advance = millis('hopping', 'advance', opts.advance, 1);
    if (advance > size) throw new ConfigError(`hopping window: advance must be <= size (${size} ms), got ${advance} ms`);
    if (size % advance !== 0) throw new ConfigError(`hopping window: size (${size} ms) must be a multiple of advance (${advance} ms)`);
    return Object.freeze({ kind: 'hopping', size, advance, grace: millis('hopping', 'grace', opts.grace, 0) });
  },
};

const floorTo = (t: number, step: number) => t - (((t % step) + step) % step);

/** The windows an event time falls in, oldest first. */
export function windowsFor(spec: WindowSpec, time: number): Window[] {
  if (spec.kind === 'tumbling') {
    const start = floorTo(time, spec.size);
    return [{ start, end: start + spec.size }];
  }
  const out: Window[] = [];
  for (let start = floorTo(time, spec.advance) - spec.size + spec.advance; start <= time; start += spec.advance) {
    out.push({ start, end: start + spec.size });
  }
  return out;
}

/** A window is closed once stream time has reached its end plus the grace period. */
export const isClosed = (spec: WindowSpec, w: Window, streamTime: number) => streamTime >= w.end + spec.grace;
