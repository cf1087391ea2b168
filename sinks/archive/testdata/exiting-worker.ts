// A Parquet worker that dies at its first row batch (threaded-format.test.ts).
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (m: { t: string }) => {
  if (m.t === 'rows') process.exit(3);
});
