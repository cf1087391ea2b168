import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { loadConfig } from '../../core/config.ts';
import { connectionSchema } from '../../infra/stack/connections.ts';
import { createS3Client } from '../s3/client.ts';
import { caughtUp, createTopics, produce, reading, registerReadings, startInstance, untilCaughtUp, waitFor, type Instance } from '../../core/runtime/testdata/harness.ts';
import { s3Destination } from './destination.ts';
import { privateObjectStore } from './testdata/s3proxy.ts';
import { sensorData, verify } from './testdata/sensor-data.ts';

jest.setTimeout(120_000);

const conn = loadConfig(connectionSchema);
const topologies = join(__dirname, 'testdata', 'topologies.ts');

/**
 * An HTTP proxy in front of the stack's object store that fails requests the way S3 does under
 * load: the first PutObject of a Parquet file gets 503 SlowDown, the second never answers, the
 * first manifest PutObject gets 500 InternalError. Everything else passes through unchanged (the
 * Host header too, so SigV4 signatures still match).
 */
async function faultyStore() {
  const target = new URL(conn.S3_ENDPOINT!);
  const seen = { slowDown: 0, hung: 0, internalError: 0, passed: 0 };
  const hanging: ServerResponse[] = [];
  const fail = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the test</Message></Error>`);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const put = req.method === 'PUT' && !req.url!.includes('uploadId');
    if (put && req.url!.includes('.parquet') && seen.slowDown === 0) {
      seen.slowDown++;
      req.resume().on('end', () => fail(res, 503, 'SlowDown'));
      return;
    }
    if (put && req.url!.includes('.parquet') && seen.hung === 0) {
      seen.hung++;
      req.resume();
      hanging.push(res); // no answer: the client's request timeout gives up on it
      return;
    }
    if (put && req.url!.includes('_manifests') && seen.internalError === 0) {
      seen.internalError++;
      req.resume().on('end', () => fail(res, 500, 'InternalError'));
      return;
    }
    seen.passed++;
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

test('5xx answers and a request that never answers are retried: every offset is archived once, under the usual keys', async () => {
  const id = `arc-${Date.now()}-${randomBytes(2).toString('hex')}`;
  const input = `${id}.in`;
  const store = await faultyStore();
  const base = Date.UTC(2026, 10, 20, 7);
  const readings = Array.from({ length: 3000 }, (_, i) => ({ ...reading(i), time: base + i * 1000 }));
  const table = await sensorData(readings);
  let inst: Instance | undefined;
  try {
    await createTopics([input], 1);
    const serde = await registerReadings(input);
    await produce(input, readings.map((r) => ({ key: r.device_id, value: serde.encode(r) })));

    inst = startInstance(`${id}-archiver-a`, id, 'faults', {
      S3_ENDPOINT: store.endpoint, S3_REQUEST_TIMEOUT_MS: '1500', ARCHIVE_PREFIX: id, ARCHIVE_MAX_ROWS: '1000', ARCHIVE_RETRY_MAX_MS: '1000',
    }, topologies);
    await untilCaughtUp(`${id}-archiver-a`, input, 90_000);
    expect(store.seen).toMatchObject({ slowDown: 1, hung: 1, internalError: 1 });

    const dest = s3Destination(createS3Client(conn), conn.S3_BUCKET, 16 << 20);
    const keys = await dest.list(`${id}/`);
    expect(keys.filter((k) => k.endsWith('.parquet')).map((k) => k.split('/').at(-1))).toEqual(['0-0-999.parquet', '0-1000-1999.parquet', '0-2000-2999.parquet']);
    expect(keys.filter((k) => k.includes('_manifests'))).toHaveLength(3);
    const result = verify({ TIMESCALE_URL: table.url, ARCHIVE_PREFIX: id });
    expect(result.stdout).toContain('3 files read; 1 hours, 0 differing; 0 rows archived twice');
    expect(result.status).toBe(0);
  } finally {
    await table.drop();
    if (inst) {
      inst.child.kill('SIGTERM');
      await inst.exited;
    }
    store.close();
  }
});

test('SIGTERM while the object store is down: the archiver stops at once, exit 0, and commits nothing it did not upload', async () => {
  const id = `arc-${Date.now()}-${randomBytes(2).toString('hex')}`;
  const input = `${id}.in`;
  const dir = mkdtempSync(join(tmpdir(), `${id}-s3-`));
  const store = await privateObjectStore(dir);
  let inst: Instance | undefined;
  try {
    await createTopics([input], 1);
    const serde = await registerReadings(input);
    // Retries at most every 30 s (the default): without giving up when told to stop, the process
    // would wait out the 30 s shutdown timeout and exit 1.
    inst = startInstance(`${id}-archiver-a`, id, 'stopping', { ...store.env, ARCHIVE_PREFIX: id, ARCHIVE_MAX_ROWS: '500', ARCHIVE_RETRY_MAX_MS: '30000' }, topologies);
    const log = () => (existsSync(inst!.log) ? readFileSync(inst!.log, 'utf8') : '');
    await waitFor('the archiver to start', async () => (log().includes('"msg":"started"') ? true : undefined));
    await store.stop();
    await produce(input, Array.from({ length: 1000 }, (_, i) => reading(i)).map((r) => ({ key: r.device_id, value: serde.encode(r) })));
    await waitFor('an upload to be retried', async () => (/failed, retrying/.test(log()) ? true : undefined));
    await waitFor('a retry to wait 1 s or more', async () => ([...log().matchAll(/"waitMs":(\d+)/g)].some((m) => Number(m[1]) >= 1000) ? true : undefined), 60_000);
    inst.child.kill('SIGTERM');
    expect(await inst.exited).toBe(0);
    inst = undefined;
    expect(await caughtUp(`${id}-archiver-a`, input)).toBe(false); // nothing was uploaded, nothing committed
  } finally {
    if (inst) {
      inst.child.kill('SIGKILL');
      await inst.exited;
    }
    await store.stop();
    store.s3.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
