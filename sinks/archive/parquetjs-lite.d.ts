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
  const parquet: { ParquetSchema: typeof ParquetSchema; ParquetWriter: typeof ParquetWriter };
  export default parquet;
}
