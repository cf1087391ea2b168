import { join } from 'node:path';
import { SluiceError } from '../../core/errors.ts';
import { parquetFormat, type ArchiveRow, type FileFormat } from './file-format.ts';
import { threadedFormat, type WriterName } from './threaded-format.ts';

const base = Date.UTC(2026, 10, 27, 10);
const row = (partition: number, i: number): ArchiveRow => ({
  partition, offset: BigInt(1000 + i),
  reading: { device_id: `dev-${i % 9}`, sensor_type: ['humidity', 'co2'][i % 2]!, value: i / 4, unit: ['%', 'ppm'][i % 2]!, time: base + i * 100, ingest_time: base + i * 100 + 7 },
});
/** Two files written at once, rows interleaved, as two partitions of one sink do. */
async function twoFiles(format: FileFormat, n: number): Promise<Buffer[]> {
  const [a, b] = [await format.open(), await format.open()];
  for (let i = 0; i < n; i++) {
    await a.append(row(1, i));
    if (i % 3 === 0) await b.append(row(2, i));
  }
  return Promise.all([a.finish(), b.finish()]);
}
const opts = { compression: 'GZIP' as const, rowGroupSize: 50_000 };
const inWorker = (writer: WriterName, workerFile = join(__dirname, 'threaded-format-worker.ts')) => threadedFormat({ ...opts, writer, workerFile, heapMb: 0, batchRows: 700, maxBatchesInFlight: 2 });

test('the worker writes the bytes the writer writes directly, for files open at once (parquetjs-lite, hyparquet-writer)', async () => {
  const direct = await twoFiles(parquetFormat(opts), 120_000);
  const worker = inWorker('parquetjs-lite');
  try {
    expect(await twoFiles(worker, 120_000)).toEqual(direct);
    // A dropped file does not keep the worker from the others.
    const dropped = await worker.open();
    await dropped.append(row(3, 0));
    dropped.discard!();
    expect((await twoFiles(worker, 1000)).map((b) => b.subarray(0, 4).toString())).toEqual(['PAR1', 'PAR1']);
  } finally {
    await worker.close();
  }
  // hyparquet-writer is an ES module that jest cannot load; the worker (Node) can.
  const hyparquet = inWorker('hyparquet-writer');
  try {
    const files = await twoFiles(hyparquet, 20_000);
    expect(files.map((b) => [b.subarray(0, 4).toString(), b.subarray(-4).toString()])).toEqual([['PAR1', 'PAR1'], ['PAR1', 'PAR1']]);
  } finally {
    await hyparquet.close();
  }
}, 60_000);

test('a worker that dies fails what waits for it and every later call, with an error that stops the topology', async () => {
  const worker = inWorker('parquetjs-lite', join(__dirname, 'testdata', 'exiting-worker.ts'));
  const file = await worker.open();
  let err: unknown;
  try {
    for (let i = 0; i < 10_000; i++) await file.append(row(0, i));
    await file.finish();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SluiceError);
  expect((err as SluiceError).retriable).toBe(false);
  expect((err as Error).message).toBe('archive: the Parquet writer thread stopped: the worker exited (code 3)');
  await expect(worker.open()).rejects.toThrow('the Parquet writer thread stopped');
  await worker.close();
});
