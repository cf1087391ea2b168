import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { conn } from './connections.ts';

test('COPY loads 10,000 rows through pg-copy-streams', async () => {
  const client = new pg.Client({ connectionString: conn.TIMESCALE_URL });
  await client.connect();
  try {
    // A temporary table: private to this connection, gone when it ends.
    await client.query('CREATE TEMP TABLE smoke_copy (device_id text NOT NULL, time timestamptz NOT NULL, value double precision NOT NULL)');
    const start = Date.UTC(2026, 0, 1);
    const rows = Array.from({ length: 10_000 }, (_, i) => `d-${i % 100}\t${new Date(start + i * 1000).toISOString()}\t${i / 10}\n`);
    await pipeline(Readable.from(rows), client.query(copyFrom('COPY smoke_copy (device_id, time, value) FROM STDIN')));

    const { rows: [stats] } = await client.query('SELECT count(*)::int AS n, count(DISTINCT device_id)::int AS devices, sum(value) AS total, max(time) AS last FROM smoke_copy');
    expect(stats).toEqual({ n: 10_000, devices: 100, total: 4_999_500, last: new Date(start + 9_999_000) });
  } finally {
    await client.end();
  }
});
