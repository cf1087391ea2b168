import { join } from 'node:path';

/** The path of the archive's Parquet worker (its own module: jest's CommonJS cannot compile import.meta). */
export const threadedFormatWorker = join(import.meta.dirname, 'threaded-format-worker.ts');
