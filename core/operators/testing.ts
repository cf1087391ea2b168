// Helpers for the marble tests of Sluice's operators.
import type { InRecord } from '../topology.ts';

/** 2026-11-27 10:00 UTC: the start of the hour most marble tests draw. */
export const T0 = Date.UTC(2026, 10, 27, 10);
export const MIN = 60_000;

/** A source record with event time `T0 + minutes * MIN` in its `time` field. */
export function at(minutes: number, key: string | null = 'k1', value = 1): InRecord<{ time: number; v: number }> {
  const time = T0 + minutes * MIN;
  return { topic: 't', partition: 0, offset: String(Math.round(minutes * 1000)), key, value: { time, v: value }, timestamp: time, eventTime: time, headers: {} };
}
