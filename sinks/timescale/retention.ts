import type pg from 'pg';
import type { Manifest } from '../archive/manifest.ts';

const HOUR = 3_600_000;

const hourKey = (t: Date) => t.toISOString().slice(0, 13);

/**
 * Hour H (its start, UTC) is confirmed archived when H is in some manifest's `hours` and every
 * partition of the archived topic (`ends`: each one's end offset in Kafka) either has a manifest whose
 * maxTime is at or past the end of H (that partition's archive moved past H) or is archived to its end
 * (nothing of it waits: also a partition that never had a record). A partition without manifests and
 * with records blocks every hour: its rows may be among them.
 */
export function archivedHours(manifests: readonly Manifest[], ends: ReadonlyMap<number, bigint>): (hour: Date) => boolean {
  const hours = new Set(manifests.flatMap((m) => m.hours));
  const reached = new Map<number, { time: number; next: bigint }>();
  for (const m of manifests) {
    const r = reached.get(m.partition) ?? { time: -Infinity, next: 0n };
    reached.set(m.partition, { time: Math.max(r.time, Date.parse(m.maxTime)), next: BigInt(m.endOffset) + 1n > r.next ? BigInt(m.endOffset) + 1n : r.next });
  }
  return (hour) => hours.has(hourKey(hour)) && [...ends].every(([p, end]) => {
    const r = reached.get(p) ?? { time: -Infinity, next: 0n };
    return r.time >= hour.getTime() + HOUR || r.next >= end;
  });
}

export interface HourPlan {
  hour: Date;
  rows: number;
  delete: boolean;
}

/** Whole UTC hours of sensor_data that end at or before `cutoff`, with their row counts and verdicts. */
export async function planRetention(c: pg.ClientBase, cutoff: Date, archived: (hour: Date) => boolean): Promise<HourPlan[]> {
  const r = await c.query(
    "SELECT date_trunc('hour', time, 'UTC') AS hour, count(*)::int AS n FROM sensor_data WHERE time < date_trunc('hour', $1::timestamptz, 'UTC') GROUP BY 1 ORDER BY 1",
    [cutoff],
  );
  return r.rows.map((row: { hour: Date; n: number }) => ({ hour: row.hour, rows: row.n, delete: archived(row.hour) }));
}

export async function deleteHour(c: pg.ClientBase, hour: Date): Promise<number> {
  const r = await c.query('DELETE FROM sensor_data WHERE time >= $1 AND time < $2', [hour, new Date(hour.getTime() + HOUR)]);
  return r.rowCount ?? 0;
}
