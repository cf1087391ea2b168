// Parquet through hyparquet-writer, the maintained alternative to parquetjs-lite (ARCHIVE_WRITER).
// An ES module only: jest (CommonJS) cannot load it, so only config.ts imports this file, lazily.
import { gzipSync } from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { columns, valuesOf, type FileFormat, type ParquetOptions } from './format.ts';

const types = {
  timestamp: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' },
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  double: { type: 'DOUBLE' },
  int32: { type: 'INT32' },
  int64: { type: 'INT64' },
} as const;

/** Rows are gathered by column for one row group, which is then encoded into the file held in memory. */
export function hyparquetFormat(opts: ParquetOptions): FileFormat {
  const schema = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c) => ({ name: c.name, repetition_type: 'REQUIRED' as const, ...types[c.kind] })),
  ];
  const compressors = { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)) };
  return {
    async open() {
      const writer = new ByteWriter();
      const file = new ParquetWriter({ writer, schema, codec: opts.compression, compressors });
      let group = columns.map(() => [] as unknown[]);
      const flush = async () => {
        if (group[0]!.length === 0) return;
        const columnData = columns.map((c, i) => ({ name: c.name, data: group[i]!, statistics: c.stats }));
        group = columns.map(() => []);
        await file.write({ columnData: columnData as Parameters<typeof file.write>[0]['columnData'], rowGroupSize: opts.rowGroupSize });
      };
      return {
        async append(row) {
          const values = valuesOf(row);
          columns.forEach((c, i) => group[i]!.push(values[c.name]));
          if (group[0]!.length >= opts.rowGroupSize) await flush();
        },
        async finish() {
          await flush();
          file.finish();
          return Buffer.from(writer.getBuffer());
        },
      };
    },
  };
}
