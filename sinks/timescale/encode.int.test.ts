import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { COPY_HEADER, COPY_TRAILER, CopyRows } from './encode.ts';
import { validateTable } from './table.ts';
import { createTestDb, withClient, type TestDb } from './testdata/db.ts';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(() => db?.drop());

const table = validateTable({
  name: 'every_type',
  columns: [
    { name: 't', type: 'timestamptz', nullable: true },
    { name: 's', type: 'text', nullable: true },
    { name: 'd', type: 'double precision', nullable: true },
    { name: 'b', type: 'bigint', nullable: true },
    { name: 'i', type: 'integer', nullable: true },
    { name: 'f', type: 'boolean', nullable: true },
    { name: 'j', type: 'jsonb', nullable: true },
  ],
});

test('every column type PostgreSQL reads back as the value sent, at the edges of its range', async () => {
  const values = [
    { t: Date.UTC(2026, 10, 27, 10, 0, 0, 123), s: 'dev-1', d: 21.5, b: 1, i: 1, f: true, j: { a: [1, 'x'] } },
    { t: Date.UTC(1999, 11, 31, 23, 59, 59, 999), s: 'tab\tnew\nline\\ back\rslash \\N', d: -0.1, b: -(2 ** 53) + 1, i: -(2 ** 31), f: false, j: 'a"b' },
    { t: '1970-01-01T00:00:00Z', s: 'dév-ü 温度 🌡', d: Number.MAX_VALUE, b: 2n ** 63n - 1n, i: 2 ** 31 - 1, f: true, j: null },
    { t: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)), s: '', d: Number.NaN, b: -(2n ** 63n), i: 0, f: false, j: [] },
    { t: Date.UTC(-4712, 0, 1), s: 'x'.repeat(100_000), d: Number.NEGATIVE_INFINITY, b: 0, i: 0, f: true, j: {} },
    { t: null, s: null, d: null, b: null, i: null, f: null, j: null },
  ];
  const rows = new CopyRows();
  for (const v of values) rows.add(table, v);
  const got = await withClient(db.url, async (c) => {
    await c.query('CREATE TABLE every_type (n serial, t timestamptz, s text, d double precision, b bigint, i integer, f boolean, j jsonb)');
    await pipeline(Readable.from([COPY_HEADER, rows.slice(0, rows.length), COPY_TRAILER]),
      c.query(copyFrom('COPY every_type (t, s, d, b, i, f, j) FROM STDIN (FORMAT binary)')));
    const r = await c.query(`SELECT (extract(epoch FROM t) * 1000)::text AS t, s, d::text AS d, b::text AS b, i, f, j::text AS j FROM every_type ORDER BY n`);
    return r.rows;
  });
  const ms = (t: unknown) => (t === null ? null : new Date(t as string | number | Date).getTime());
  expect(got.map((r) => (r.t === null ? null : Number(r.t)))).toEqual(values.map((v) => ms(v.t)));
  expect(got.map((r) => r.s)).toEqual(values.map((v) => v.s));
  expect(got.map((r) => r.d)).toEqual(['21.5', '-0.1', '1.7976931348623157e+308', 'NaN', '-Infinity', null]);
  expect(got.map((r) => r.b)).toEqual(values.map((v) => (v.b === null ? null : String(v.b))));
  expect(got.map((r) => r.i)).toEqual(values.map((v) => v.i));
  expect(got.map((r) => r.f)).toEqual(values.map((v) => v.f));
  expect(got.map((r) => (r.j === null ? null : JSON.parse(r.j)))).toEqual([{ a: [1, 'x'] }, 'a"b', null, [], {}, null]);
});
