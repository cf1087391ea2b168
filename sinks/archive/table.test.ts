import { compare, formatTable } from './table.ts';

test('the table shows each hour that either side has, and what differs', () => {
  const rows = compare(new Map([['2026-11-27T10', 5], ['2026-11-27T11', 2]]), new Map([['2026-11-27T11', 3], ['2026-11-27T12', 1]]));
  expect(formatTable(rows)).toBe([
    'hour (UTC)        archive  sensor_data  status',
    '2026-11-27T10:00  5        0            DIFF 5',
    '2026-11-27T11:00  2        3            DIFF -1',
    '2026-11-27T12:00  0        1            DIFF -1',
  ].join('\n'));
});
