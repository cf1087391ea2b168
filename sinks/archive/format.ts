import { Writable } from 'node:stream';
import parquet from 'parquetjs-lite';
import type { Reading } from '../../topologies/reading.ts';

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
}

/** A file format: Parquet today (the format × destination split of the archive). */
export interface FileFormat {
  open(): Promise<FileWriter>;
}

export type Compression = 'GZIP' | 'SNAPPY';

/** The columns of archived readings; times are TIMESTAMP_MILLIS (UTC), which DuckDB, Spark and Athena read as timestamps. */
export function readingSchema(compression: Compression) {
  const c = { compression };
  return new parquet.ParquetSchema({
    time: { type: 'TIMESTAMP_MILLIS', ...c },
    device_id: { type: 'UTF8', ...c },
    sensor_type: { type: 'UTF8', ...c },
    value: { type: 'DOUBLE', ...c, statistics: false },
    unit: { type: 'UTF8', ...c },
    ingest_time: { type: 'TIMESTAMP_MILLIS', ...c, statistics: false },
    kafka_partition: { type: 'INT32', ...c },
    kafka_offset: { type: 'INT64', ...c },
  });
}

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
 * it out, so `rowGroupSize` bounds the encoder's memory; the file itself is held until `finish`.
 */
export function parquetFormat(opts: { compression: Compression; rowGroupSize: number }): FileFormat {
  const schema = readingSchema(opts.compression);
  return {
    async open() {
      const out = new Collector();
      // Data page v1: the layout every reader handles (v2 pages from this writer are refused by some).
      const writer = await parquet.ParquetWriter.openStream(schema, out, { rowGroupSize: opts.rowGroupSize, useDataPageV2: false });
      return {
        append: ({ partition, offset, reading: r }) => writer.appendRow({
          time: r.time, device_id: r.device_id, sensor_type: r.sensor_type, value: r.value, unit: r.unit,
          ingest_time: r.ingest_time, kafka_partition: partition, kafka_offset: Number(offset),
        }),
        async finish() {
          await writer.close();
          return Buffer.concat(out.chunks);
        },
      };
    },
  };
}
