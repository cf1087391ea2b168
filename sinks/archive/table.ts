// The table bin/archive-verify prints (apart from verify.ts, which loads the ESM-only hyparquet).

export interface HourRow {
  hour: string;
  archive: number;
  table: number;
}

/** One line per hour that either side has, ascending. */
export function compare(archive: Map<string, number>, table: Map<string, number>): HourRow[] {
  const hours = [...new Set([...archive.keys(), ...table.keys()])].sort();
  return hours.map((hour) => ({ hour, archive: archive.get(hour) ?? 0, table: table.get(hour) ?? 0 }));
}

export function formatTable(rows: readonly HourRow[]): string {
  const lines = [['hour (UTC)', 'archive', 'sensor_data', 'status']];
  for (const r of rows) lines.push([`${r.hour}:00`, String(r.archive), String(r.table), r.archive === r.table ? 'ok' : `DIFF ${r.archive - r.table}`]);
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
