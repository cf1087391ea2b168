// Parquet through hyparquet-writer, the maintained alternative to parquetjs-lite (ARCHIVE_WRITER).
// An ES module only: jest (CommonJS) cannot load it, so only archive-settings.ts imports this file, lazily.
import { gzipSync } from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { columns, valuesOf, type FileFormat, type ParquetOptions } from './file-format.ts';

const types = {
  timestamp: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' },
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  double: { type: 'DOUBLE' },
  int32: { type: 'INT32' },
  int64: { type: 'INT64' },
} as const;

type Column = Float64Array | Int32Array | BigInt64Array | string[];
const newColumn = (kind: (typeof columns)[number]['kind'], size: number): Column =>
  kind === 'string' ? [] : kind === 'int32' ? new Int32Array(size) : kind === 'int64' ? new BigInt64Array(size) : new Float64Array(size);

/**
 * Rows are gathered by column for one row group (numbers in typed arrays, repeated strings shared),
 * which is then encoded into the file held in memory.
 */
export function hyparquetFormat(opts: ParquetOptions): FileFormat {
  const schema = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c) => ({ name: c.name, repetition_type: 'REQUIRED' as const, ...types[c.kind] })),
  ];
  const compressors = { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)) };
  const size = opts.rowGroupSize;
  return {
    async open() {
      const writer = new ByteWriter();
      const file = new ParquetWriter({ writer, schema, codec: opts.compression, compressors });
      const group = columns.map((c) => newColumn(c.kind, size));
      const strings = new Map<string, string>(); // device ids, types and units repeat: keep one copy of each
      let rows = 0;
      const flush = async () => {
        if (rows === 0) return;
        const columnData = columns.map((c, i) => ({ name: c.name, data: group[i]!.slice(0, rows), statistics: c.stats }));
        rows = 0;
        for (const col of group) if (Array.isArray(col)) col.length = 0;
        strings.clear();
        await file.write({ columnData: columnData as Parameters<typeof file.write>[0]['columnData'], rowGroupSize: size });
      };
      return {
        async append(row) {
          const values = valuesOf(row);
          columns.forEach((c, i) => {
            const v = values[c.name]!;
            const col = group[i]!;
            if (Array.isArray(col)) {
              const str = v as string;
              let shared = strings.get(str);
              if (shared === undefined) strings.set(str, (shared = str));
              col.push(shared);
            } else {
              col[rows] = v as never;
            }
          });
          rows += 1;
          if (rows >= size) await flush();
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
