// The worker thread of threaded-format.ts: it owns the Parquet writers of the open files, appends the
// row batches it is sent, and sends back each file's bytes when it closes. Run by Node (not jest).
import { parentPort, workerData } from 'node:worker_threads';
import { parquetFormat, type FileFormat, type FileWriter } from './file-format.ts';
import type { FromWorker, ToWorker, WorkerSetup } from './threaded-format.ts';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const format: FileFormat = setup.writer === 'hyparquet-writer' ? (await import('./hyparquet-format.ts')).hyparquetFormat(setup) : parquetFormat(setup);

interface Open { writer: FileWriter; strings: string[] }
const files = new Map<number, Open>();
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function handle(m: ToWorker): Promise<void> {
  if (m.t === 'open') {
    files.set(m.id, { writer: await format.open(), strings: [] });
    return;
  }
  const file = files.get(m.id);
  if (m.t === 'rows') {
    if (!file) return send({ t: 'ack' }); // dropped
    const { strings, writer } = file;
    const partition = m.partition;
    for (const s of m.strings) strings.push(s);
    for (let i = 0; i < m.offsets.length; i++) {
      await writer.append({
        partition, offset: m.offsets[i]!,
        reading: { time: m.time[i]!, device_id: strings[m.text[3 * i]!]!, sensor_type: strings[m.text[3 * i + 1]!]!, value: m.value[i]!, unit: strings[m.text[3 * i + 2]!]!, ingest_time: m.ingestTime[i]! },
      });
    }
    send({ t: 'ack' });
  } else if (m.t === 'finish') {
    if (!file) throw new Error(`file ${m.id} is not open`);
    files.delete(m.id);
    const bytes = await file.writer.finish();
    // A Buffer may be a view into a shared pool: only a buffer of its own is transferred.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer as ArrayBuffer : new Uint8Array(bytes).buffer;
    send({ t: 'done', id: m.id, bytes: own }, [own]);
  } else {
    files.delete(m.id);
  }
}

// Messages are handled one at a time, in order; an error stops the worker (the sink stops on it).
let chain = Promise.resolve();
port.on('message', (m: ToWorker) => {
  chain = chain.then(() => handle(m)).catch((err: unknown) => {
    send({ t: 'error', message: (err as Error).stack ?? String(err) });
    process.exit(1);
  });
});
