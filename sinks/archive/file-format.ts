import { Writable } from 'node:stream';
import parquet from 'parquetjs-lite';
import type { Reading } from '../../schemas/records.ts';

export type { Reading };

/** One archived row: a reading and where it was read in Kafka. */
export interface ArchiveRow {
  partition: number;
  offset: bigint;
  reading: Reading;
}

/** Writes rows into one file held in memory; `finish` returns its bytes. */
export interface FileWriter {
  append(row: ArchiveRow): Promise<void>;
  finish(): Promise<Buffer>;
  /** Lets go of a file that will not be finished (its partition was revoked). */
  discard?(): void;
}

/** A file format: Parquet today, by one of two writers (the format × destination split of the archive). */
export interface FileFormat {
  open(): Promise<FileWriter>;
  /** Stops what the format runs (a worker thread). */
  close?(): Promise<void>;
}

export type Compression = 'GZIP' | 'SNAPPY';
export interface ParquetOptions {
  compression: Compression;
  /** Rows per row group: the writer holds about one row group in memory. */
  rowGroupSize: number;
}

type Kind = 'timestamp' | 'string' | 'double' | 'int32' | 'int64';
/**
 * The columns of archived readings, for every writer. Times are TIMESTAMP_MILLIS (UTC), which
 * DuckDB, Spark and Athena read as timestamps. `stats`: min/max kept (readers skip on them).
 */
export const columns: readonly { name: string; kind: Kind; stats: boolean }[] = [
  { name: 'time', kind: 'timestamp', stats: true },
  { name: 'device_id', kind: 'string', stats: true },
  { name: 'sensor_type', kind: 'string', stats: true },
  { name: 'value', kind: 'double', stats: false },
  { name: 'unit', kind: 'string', stats: false },
  { name: 'ingest_time', kind: 'timestamp', stats: false },
  { name: 'kafka_partition', kind: 'int32', stats: true },
  { name: 'kafka_offset', kind: 'int64', stats: true },
];

/** A row's values by column name. */
export const valuesOf = ({ partition, offset, reading: r }: ArchiveRow): Record<string, string | number | bigint> => ({
  time: r.time, device_id: r.device_id, sensor_type: r.sensor_type, value: r.value, unit: r.unit,
  ingest_time: r.ingest_time, kafka_partition: partition, kafka_offset: offset,
});

const parquetjsTypes: Record<Kind, string> = { timestamp: 'TIMESTAMP_MILLIS', string: 'UTF8', double: 'DOUBLE', int32: 'INT32', int64: 'INT64' };

/** A stream that keeps what is written to it, in memory. */
class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.chunks.push(chunk);
    done();
  }
}

/**
 * Parquet through parquetjs-lite. It keeps one row group in memory (as encoded pages) before writing
 * it out; the file itself is held until `finish`.
 */
export function parquetFormat(opts: ParquetOptions): FileFormat {
  const schema = new parquet.ParquetSchema(Object.fromEntries(columns.map((c) => [c.name, { type: parquetjsTypes[c.kind], compression: opts.compression, statistics: c.stats }])));
  return {
    async open() {
      const out = new Collector();
      // Data page v1: the layout every reader handles.
      const writer = await parquet.ParquetWriter.openStream(schema, out, { rowGroupSize: opts.rowGroupSize, useDataPageV2: false });
      return {
        append: (row) => writer.appendRow({ ...valuesOf(row), kafka_offset: Number(row.offset) }),
        async finish() {
          await writer.close();
          return Buffer.concat(out.chunks);
        },
      };
    },
  };
}
