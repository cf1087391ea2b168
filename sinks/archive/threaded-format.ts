import { Worker } from 'node:worker_threads';
import { SluiceError } from '../../core/component.ts';
import type { ArchiveRow, FileFormat, FileWriter, ParquetOptions } from './file-format.ts';

export type WriterName = 'parquetjs-lite' | 'hyparquet-writer';
/** What the worker is started with. */
export interface WorkerSetup extends ParquetOptions {
  writer: WriterName;
}
/**
 * A batch of one file's rows, by column: numbers in typed arrays (transferred, not copied), the three
 * strings of each row as indexes into the file's strings, of which each batch carries the new ones.
 */
export interface RowBatch {
  t: 'rows';
  id: number;
  partition: number;
  strings: string[];
  offsets: BigInt64Array<ArrayBuffer>;
  time: Float64Array<ArrayBuffer>;
  ingestTime: Float64Array<ArrayBuffer>;
  value: Float64Array<ArrayBuffer>;
  /** device_id, sensor_type, unit of each row. */
  text: Int32Array<ArrayBuffer>;
}
export type ToWorker = { t: 'open'; id: number } | RowBatch | { t: 'finish'; id: number } | { t: 'drop'; id: number };
export type FromWorker = { t: 'ack' } | { t: 'done'; id: number; bytes: ArrayBuffer } | { t: 'error'; message: string };

export interface ThreadedFormatOptions extends WorkerSetup {
  /** The path of threaded-format-worker.ts (see threaded-format-worker-path.ts). */
  workerFile: string;
  /** The worker's V8 old-generation cap in MiB (resourceLimits.maxOldGenerationSizeMb); 0: V8's default. */
  heapMb: number;
  /** Rows per message to the worker. */
  batchRows?: number;
  /** Batches sent but not yet appended by the worker before `append` waits. */
  maxBatchesInFlight?: number;
}

/** A FileFormat with a thread to close. */
export interface ClosableFormat extends FileFormat {
  close(): Promise<void>;
}

/**
 * Parquet written in a worker thread: the main thread (Kafka, Avro, the sink) only gathers rows into
 * batches by column and posts them; the worker owns the writers of the open files and sends back
 * each file's bytes when it is finished. The file contents are those of the writer run directly.
 * If the worker dies (an error, its heap cap), every pending and later call rejects with a fatal
 * SluiceError: the topology stops, and a restart resumes from the committed offsets.
 */
export function threadedFormat(opts: ThreadedFormatOptions): ClosableFormat {
  const batchRows = opts.batchRows ?? 1000;
  const maxInFlight = opts.maxBatchesInFlight ?? 8;
  const setup: WorkerSetup = { writer: opts.writer, compression: opts.compression, rowGroupSize: opts.rowGroupSize };
  let worker: Worker | undefined;
  let failed: Error | undefined;
  let closing = false;
  let inFlight = 0;
  let nextId = 0;
  const waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const finishing = new Map<number, { resolve: (b: Buffer) => void; reject: (err: Error) => void }>();

  /** The worker keeps the process alive only while something waits for it. */
  const refresh = () => (inFlight > 0 || finishing.size > 0 ? worker?.ref() : worker?.unref());
  const fail = (err: Error) => {
    if (failed) return;
    failed = closing ? err : new SluiceError(`archive: the Parquet writer thread stopped: ${err.message}`, { retriable: false, cause: err });
    for (const w of waiting.splice(0)) w.reject(failed);
    for (const f of finishing.values()) f.reject(failed);
    finishing.clear();
    void worker?.terminate();
  };
  const post = (m: ToWorker, transfer: ArrayBuffer[] = []) => {
    if (failed) throw failed;
    worker ??= start();
    worker.postMessage(m, transfer);
  };
  const start = () => {
    const w = new Worker(opts.workerFile, { workerData: setup, resourceLimits: opts.heapMb > 0 ? { maxOldGenerationSizeMb: opts.heapMb } : {} });
    w.on('message', (m: FromWorker) => {
      if (m.t === 'ack') {
        inFlight -= 1;
        waiting.shift()?.resolve();
      } else if (m.t === 'done') {
        finishing.get(m.id)?.resolve(Buffer.from(m.bytes));
        finishing.delete(m.id);
      } else {
        fail(new Error(m.message));
      }
      refresh();
    });
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the worker exited (code ${code})`)));
    w.unref();
    return w;
  };

  return {
    async open(): Promise<FileWriter> {
      const id = nextId++;
      post({ t: 'open', id });
      const strings = new Map<string, number>();
      let batch: RowBatch | undefined;
      let n = 0;
      let dropped = false;
      const intern = (s: string) => {
        let i = strings.get(s);
        if (i === undefined) {
          strings.set(s, (i = strings.size));
          batch!.strings.push(s);
        }
        return i;
      };
      const newBatch = (partition: number): RowBatch => ({
        t: 'rows', id, partition, strings: [], offsets: new BigInt64Array(batchRows), time: new Float64Array(batchRows),
        ingestTime: new Float64Array(batchRows), value: new Float64Array(batchRows), text: new Int32Array(3 * batchRows),
      });
      /** Posts the gathered rows; waits when the worker is `maxInFlight` batches behind. */
      const flush = async () => {
        if (!batch || n === 0) return;
        const b = batch;
        if (n < batchRows) Object.assign(b, { offsets: b.offsets.slice(0, n), time: b.time.slice(0, n), ingestTime: b.ingestTime.slice(0, n), value: b.value.slice(0, n), text: b.text.slice(0, 3 * n) });
        batch = undefined;
        n = 0;
        post(b, [b.offsets.buffer, b.time.buffer, b.ingestTime.buffer, b.value.buffer, b.text.buffer]);
        inFlight += 1;
        refresh();
        if (inFlight > maxInFlight) await new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
      };
      return {
        async append({ partition, offset, reading: r }: ArchiveRow) {
          if (failed) throw failed;
          if (dropped) return;
          if (batch && batch.partition !== partition) await flush();
          batch ??= newBatch(partition);
          batch.offsets[n] = offset;
          batch.time[n] = r.time;
          batch.ingestTime[n] = r.ingest_time;
          batch.value[n] = r.value;
          batch.text[3 * n] = intern(r.device_id);
          batch.text[3 * n + 1] = intern(r.sensor_type);
          batch.text[3 * n + 2] = intern(r.unit);
          n += 1;
          if (n === batchRows) await flush();
        },
        async finish() {
          if (dropped) throw new SluiceError('archive: the file was dropped', { retriable: true });
          await flush();
          const bytes = new Promise<Buffer>((resolve, reject) => finishing.set(id, { resolve, reject }));
          post({ t: 'finish', id });
          refresh();
          return bytes;
        },
        discard() {
          if (dropped || failed) return;
          dropped = true;
          post({ t: 'drop', id });
        },
      };
    },
    async close() {
      closing = true;
      await worker?.terminate();
    },
  };
}
