import { z } from 'zod';
import { type SinkFactory, loadConfig } from '../../core/component.ts';
import { createS3Client, s3Schema } from '../s3/client.ts';
import { folderDestination, s3Destination, type Destination } from './destination.ts';
import type { FileFormat } from './file-format.ts';
import { threadedFormat } from './threaded-format.ts';
import { createArchiveSink } from './archive-sink.ts';

const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);
const MiB = 1024 * 1024;

/** The archive's settings, from the environment (names in the README's "Parquet archive"). */
export const archiveSchema = s3Schema.extend({
  S3_BUCKET: s3Schema.shape.S3_BUCKET.optional().describe('Required unless ARCHIVE_DIR is set.'),
  ARCHIVE_DIR: z.string().min(1).optional().describe('A local folder to archive to instead of S3.'),
  ARCHIVE_PREFIX: z.string().regex(/^[\w.=-]+(\/[\w.=-]+)*$/, 'expected path segments of letters, digits, _ . = -').default('sensor_readings').describe('Key prefix of the files and manifests.'),
  ARCHIVE_COMPRESSION: z.enum(['GZIP', 'SNAPPY']).default('GZIP').describe('Parquet page compression.'),
  ARCHIVE_WRITER: z.enum(['parquetjs-lite', 'hyparquet-writer']).default('parquetjs-lite').describe('The Parquet writer: parquetjs-lite, or hyparquet-writer (about 4× faster, see bench/archiver.ts).'),
  ARCHIVE_WORKER_HEAP_MB: int(0, 16_384, 256).describe('Heap cap of the thread that writes the Parquet files, in MiB (0: the process\'s); it holds a row group per open file, i.e. per assigned partition. See bench/archiver.ts.'),
  ARCHIVE_ROW_GROUP_ROWS: int(50_000, 10_000_000, 100_000).describe('Rows per Parquet row group (readers skip by row group; at least 50,000).'),
  ARCHIVE_MAX_ROWS: int(1, 10_000_000, 500_000).describe('Cap on the rows of one file: with one open file per partition this bounds memory.'),
  ARCHIVE_MAX_BYTES: int(1024, 4096 * MiB, 256 * MiB).describe('Cap on the estimated (unencoded) bytes of one file.'),
  ARCHIVE_IDLE_MS: int(100, 86_400_000, 60_000).describe('A file with no new row for this long is closed and uploaded, in ms.'),
  ARCHIVE_RETRY_MAX_MS: int(100, 600_000, 30_000).describe('Longest wait between attempts at a failed upload (the wait doubles from 500 ms), in ms.'),
  ARCHIVE_PART_BYTES: int(5 * MiB, 1024 * MiB, 16 * MiB).describe('Files of this size or more go up as multipart uploads, in parts of this size (S3: at least 5 MiB).'),
}).refine((c) => c.S3_BUCKET !== undefined || c.ARCHIVE_DIR !== undefined, { path: ['S3_BUCKET or ARCHIVE_DIR'], message: 'set S3_BUCKET, or ARCHIVE_DIR for a local folder' });
export type ArchiveConfig = z.output<typeof archiveSchema>;

export function destinationOf(c: ArchiveConfig): Destination {
  if (c.ARCHIVE_DIR) return folderDestination(c.ARCHIVE_DIR);
  return s3Destination(createS3Client(c), c.S3_BUCKET!, c.ARCHIVE_PART_BYTES);
}

/** The configured writer, run in a worker thread of its own. */
export async function formatOf(c: ArchiveConfig): Promise<FileFormat> {
  // Loaded when used: threaded-format-worker-path.ts finds the worker by import.meta, which jest (CommonJS) cannot compile.
  const { threadedFormatWorker } = await import('./threaded-format-worker-path.ts');
  return threadedFormat({ writer: c.ARCHIVE_WRITER, compression: c.ARCHIVE_COMPRESSION, rowGroupSize: c.ARCHIVE_ROW_GROUP_ROWS, heapMb: c.ARCHIVE_WORKER_HEAP_MB, workerFile: threadedFormatWorker });
}

/** The archive sink, configured from the environment when the topology starts. */
export function archiveSink(env: Record<string, string | undefined> = process.env): SinkFactory {
  return async (ctx) => {
    const c = loadConfig(archiveSchema, env);
    return createArchiveSink({
      destination: destinationOf(c),
      format: await formatOf(c),
      prefix: c.ARCHIVE_PREFIX,
      maxRows: c.ARCHIVE_MAX_ROWS,
      maxBytes: c.ARCHIVE_MAX_BYTES,
      idleMs: c.ARCHIVE_IDLE_MS,
      maxRetryMs: c.ARCHIVE_RETRY_MAX_MS,
    }, ctx);
  };
}
