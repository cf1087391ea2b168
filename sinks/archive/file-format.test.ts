import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'format-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([['parquetjs-lite', 'GZIP'], ['parquetjs-lite', 'SNAPPY'], ['hyparquet-writer', 'GZIP'], ['hyparquet-writer', 'SNAPPY']])('%s writes typed, %s-compressed columns in row groups of 50,000 that DuckDB reads', async (writer, codec) => {
  const file = join(dir, `${writer}-${codec}.parquet`);
  const run = spawnSync(join(__dirname, '..', '..', 'bin', 'node'), [join(__dirname, 'testdata', 'write-sample.ts'), writer, codec, file, '120000'], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const query = async (sql: string) => (await db.runAndReadAll(sql, [file])).getRowObjects();
  const types = (await query(`DESCRIBE SELECT * FROM read_parquet($1)`)).map((r) => `${String(r.column_name)} ${String(r.column_type)}`);
  expect(types).toEqual([
    'time TIMESTAMP', 'device_id VARCHAR', 'sensor_type VARCHAR', 'value DOUBLE', 'unit VARCHAR', 'ingest_time TIMESTAMP', 'kafka_partition INTEGER', 'kafka_offset BIGINT',
  ]);
  expect(await query(`SELECT count(*)::INT AS n, min(time)::VARCHAR AS first, max(ingest_time)::VARCHAR AS last, sum(value)::DOUBLE AS total,
      min(kafka_offset)::INT AS lo, max(kafka_offset)::INT AS hi, count(DISTINCT device_id)::INT AS devices FROM read_parquet($1)`)).toEqual([
    { n: 120_000, first: '2026-11-27 10:00:00', last: '2026-11-27 13:19:59.907', total: (119_999 * 120_000) / 2 / 4, lo: 1000, hi: 120_999, devices: 9 },
  ]);
  const groups = await query(`SELECT row_group_num_rows::INT AS rows, compression FROM parquet_metadata($1) WHERE column_id = 0 ORDER BY row_group_id`);
  expect(groups).toEqual([50_000, 50_000, 20_000].map((rows) => ({ rows, compression: codec })));
}, 60_000); // a spawned Node writes 120,000 rows: seconds on a busy machine
