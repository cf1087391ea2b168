// The part of parquetjs-lite (which ships no types) that Sluice uses.
declare module 'parquetjs-lite' {
  import type { Writable } from 'node:stream';
  export interface FieldSpec {
    type: string;
    compression?: string;
    optional?: boolean;
    statistics?: boolean;
  }
  export class ParquetSchema {
    constructor(fields: Record<string, FieldSpec>);
  }
  export class ParquetWriter {
    static openStream(schema: ParquetSchema, stream: Writable, opts?: { rowGroupSize?: number; pageSize?: number; useDataPageV2?: boolean }): Promise<ParquetWriter>;
    appendRow(row: Record<string, unknown>): Promise<void>;
    close(): Promise<void>;
  }
  export interface ParquetCursor {
    next(): Promise<Record<string, unknown> | null>;
  }
  export class ParquetReader {
    static openBuffer(buffer: Buffer): Promise<ParquetReader>;
    getCursor(columns?: string[][]): ParquetCursor;
    getRowCount(): number | { toNumber(): number };
    getMetadata(): Record<string, string>;
    metadata: { schema: { name: string; type?: number; converted_type?: number }[]; row_groups: { num_rows: number | { toNumber(): number }; columns: { meta_data: { codec: number } }[] }[] };
    close(): Promise<void>;
  }
  const parquet: { ParquetSchema: typeof ParquetSchema; ParquetWriter: typeof ParquetWriter; ParquetReader: typeof ParquetReader };
  export default parquet;
}
