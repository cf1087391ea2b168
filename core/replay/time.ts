import { ConfigError } from '../errors.ts';

const isoWithZone = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const epochMs = /^\d{1,15}$/;

/**
 * A point in time for `bin/replay`: ISO 8601 with a timezone (`2026-11-27T08:00:00Z`,
 * `2026-11-27T09:00+01:00`) or epoch milliseconds (`1795766400000`). A local time without a zone
 * is refused: it would mean different instants on different machines.
 */
export function parseTime(option: string, text: string): number {
  if (epochMs.test(text)) return Number(text);
  const m = isoWithZone.exec(text);
  const ms = m ? Date.parse(text) : NaN;
  if (!m || Number.isNaN(ms)) {
    throw new ConfigError(`${option} must be ISO 8601 with a timezone (e.g. 2026-11-27T08:00:00Z or 2026-11-27T09:00:00+01:00) or epoch milliseconds, got ${JSON.stringify(text)}`);
  }
  // Date.parse rolls 2026-02-30 over to March: compare the wall-clock fields it understood with the text's.
  const zone = m[5] === 'Z' ? 0 : (m[5]!.startsWith('-') ? -1 : 1) * (Number(m[5]!.slice(1, 3)) * 60 + Number(m[5]!.slice(4))) * 60_000;
  const local = new Date(ms + zone).toISOString();
  if (local.slice(0, 10) !== m[1] || local.slice(11, 13) !== m[2] || local.slice(14, 16) !== m[3]) {
    throw new ConfigError(`${option} is not a valid date and time, got ${JSON.stringify(text)}`);
  }
  return ms;
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as `90s`, `15m`, `6h` or `7d`, in ms. */
export function parseDuration(option: string, text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m || Number(m[1]) === 0) throw new ConfigError(`${option} must be a positive duration such as 90s, 15m, 6h or 7d, got ${JSON.stringify(text)}`);
  return Number(m[1]) * units[m[2]!]!;
}

/** ISO 8601 in UTC, as every time in the replay's output is shown. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** The consumer group (and state namespace) of a replay started at `now`: `<topology>.replay.<UTC time>`. */
export function replayGroup(topology: string, now: number): string {
  return `${topology}.replay.${iso(now).replace(/[-:]/g, '')}`;
}
