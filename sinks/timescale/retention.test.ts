import { archivedHours } from './retention.ts';
import type { Manifest } from '../archive/manifest.ts';

const manifest = (partition: number, minTime: string, maxTime: string, hours: string[]): Manifest => ({
  key: `sensor_readings/date=x/p${partition}.parquet`, partition, startOffset: '0', endOffset: '9', rows: 10, minTime, maxTime, hours,
});
const at = (iso: string) => new Date(iso);

const ends = (...e: number[]) => new Map(e.map((n, p) => [p, BigInt(n)]));

test('an hour is archived once it is in a manifest and every partition archived past its end', () => {
  const archived = archivedHours([
    manifest(0, '2026-01-01T10:05:00Z', '2026-01-01T12:30:00Z', ['2026-01-01T10', '2026-01-01T11', '2026-01-01T12']),
    manifest(1, '2026-01-01T10:10:00Z', '2026-01-01T11:00:00Z', ['2026-01-01T10', '2026-01-01T11']),
  ], ends(20, 20, 0));
  expect(archived(at('2026-01-01T10:00:00Z'))).toBe(true);
  // Partition 1 reached exactly the end of hour 10 but not past 11's end: 11 may still have rows to come.
  expect(archived(at('2026-01-01T11:00:00Z'))).toBe(false);
  expect(archived(at('2026-01-01T12:00:00Z'))).toBe(false);
  // Never in any manifest: nothing of it was archived.
  expect(archived(at('2026-01-01T09:00:00Z'))).toBe(false);
});

test('no manifests confirm nothing', () => {
  expect(archivedHours([], ends(0, 0))(at('2026-01-01T10:00:00Z'))).toBe(false);
});

test('a partition with records and no manifest blocks every hour; one archived to its end in Kafka does not', () => {
  const m = [manifest(0, '2026-01-01T10:05:00Z', '2026-01-01T12:30:00Z', ['2026-01-01T10', '2026-01-01T11', '2026-01-01T12'])];
  expect(archivedHours(m, ends(10, 5))(at('2026-01-01T10:00:00Z'))).toBe(false);
  expect(archivedHours(m, ends(10, 0))(at('2026-01-01T10:00:00Z'))).toBe(true);
  // Partition 1's archive ends at 10:30 but holds everything Kafka has of it: hour 11 is confirmed too.
  const quiet = [...m, { ...manifest(1, '2026-01-01T10:00:00Z', '2026-01-01T10:30:00Z', ['2026-01-01T10']), endOffset: '4' }];
  expect(archivedHours(quiet, ends(10, 5))(at('2026-01-01T11:00:00Z'))).toBe(true);
  expect(archivedHours(quiet, ends(10, 6))(at('2026-01-01T11:00:00Z'))).toBe(false);
});
