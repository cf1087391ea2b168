import { gunzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import pg from 'pg';
import type { Destination } from './destination.ts';
import { hourFolder, hourLabel, hourOf } from './layout.ts';

/** What the archive holds per event-time hour, read back from the Parquet files themselves. */
export interface ArchiveCounts {
  byHour: Map<string, number>;
  files: number;
  /** Rows whose (partition, offset) appeared in an earlier row: must be 0. */
  duplicates: number;
}

/**
 * Reads every archived file that can hold rows of [from, to) and counts those rows per UTC hour.
 * Late rows live in files of later hours, so every folder from `from`'s hour on is read.
 */
export async function countArchive(dest: Destination, prefix: string, from: Date, to: Date): Promise<ArchiveCounts> {
  const first = hourFolder(prefix, hourOf(from.getTime()));
  const keys = (await dest.list(`${prefix}/date=`)).filter((k) => k.endsWith('.parquet') && k.slice(0, first.length) >= first);
  const byHour = new Map<string, number>();
  const seen = new Set<string>();
  let duplicates = 0;
  for (const key of keys) {
    // hyparquet reads what parquetjs-lite writes (parquetjs-lite's own reader fails on INT64 timestamps).
    const body = await dest.get(key);
    const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.length) as ArrayBuffer;
    const rows = await parquetReadObjects({ file, columns: ['time', 'kafka_partition', 'kafka_offset'], compressors: { GZIP: (b: Uint8Array) => gunzipSync(b) } });
    for (const row of rows as { time: Date; kafka_partition: number; kafka_offset: bigint }[]) {
      const t = row.time.getTime();
      if (t < from.getTime() || t >= to.getTime()) continue;
      const id = `${row.kafka_partition}:${row.kafka_offset}`;
      if (seen.has(id)) duplicates += 1;
      seen.add(id);
      const h = hourLabel(t);
      byHour.set(h, (byHour.get(h) ?? 0) + 1);
    }
  }
  return { byHour, files: keys.length, duplicates };
}

/** Rows of `sensor_data` per UTC hour in [from, to). */
export async function countTable(url: string, from: Date, to: Date): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ h: Date; n: string }>(
      `SELECT date_trunc('hour', time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS h, count(*) AS n
         FROM sensor_data WHERE time >= $1 AND time < $2 GROUP BY 1 ORDER BY 1`, [from, to]);
    return new Map(rows.map((r) => [hourLabel(r.h.getTime()), Number(r.n)]));
  } finally {
    await client.end();
  }
}
