import { archivedHours, type Manifest } from './retention.ts';

const manifest = (partition: number, minTime: string, maxTime: string, hours: string[]): Manifest => ({
  key: `sensor_readings/date=x/p${partition}.parquet`, partition, startOffset: '0', endOffset: '9', rows: 10, minTime, maxTime, hours,
});
const at = (iso: string) => new Date(iso);

test('an hour is archived once it is in a manifest and every partition archived past its end', () => {
  const archived = archivedHours([
    manifest(0, '2026-01-01T10:05:00Z', '2026-01-01T12:30:00Z', ['2026-01-01T10', '2026-01-01T11', '2026-01-01T12']),
    manifest(1, '2026-01-01T10:10:00Z', '2026-01-01T11:00:00Z', ['2026-01-01T10', '2026-01-01T11']),
  ]);
  expect(archived(at('2026-01-01T10:00:00Z'))).toBe(true);
  // Partition 1 reached exactly the end of hour 10 but not past 11's end: 11 may still have rows to come.
  expect(archived(at('2026-01-01T11:00:00Z'))).toBe(false);
  expect(archived(at('2026-01-01T12:00:00Z'))).toBe(false);
  // Never in any manifest: nothing of it was archived.
  expect(archived(at('2026-01-01T09:00:00Z'))).toBe(false);
});

test('no manifests confirm nothing', () => {
  expect(archivedHours([])(at('2026-01-01T10:00:00Z'))).toBe(false);
});
