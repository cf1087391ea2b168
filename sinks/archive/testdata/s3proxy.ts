import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { s3proxyJar, s3proxyProperties } from '../../../infra/stack/services/objectstore.ts';
import { findJava } from '../../../infra/stack/java.ts';
import { createS3Client } from '../../s3/client.ts';
import { waitFor } from '../../../core/runtime/testdata/harness.ts';

const freePort = () => new Promise<number>((res) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const { port } = srv.address() as { port: number };
    srv.close(() => res(port));
  });
});

/**
 * A private S3Proxy (the stack's jar) on a free port, storing in `dir`, for outage tests: the shared
 * one on :9000 is never stopped. `stop` and `start` keep port, credentials and data.
 */
export async function privateObjectStore(dir: string) {
  const port = await freePort();
  const secret = randomBytes(12).toString('hex');
  mkdirSync(join(dir, 'blobs'), { recursive: true });
  const conf = join(dir, 's3proxy.conf');
  writeFileSync(conf, `${s3proxyProperties(port, 'archive-test', secret, join(dir, 'blobs'))}\n`, { mode: 0o600 });
  const env = {
    S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_BUCKET: 'archive-test', S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'archive-test', S3_SECRET_ACCESS_KEY: secret,
  };
  const s3 = createS3Client({ ...env, S3_FORCE_PATH_STYLE: true }, 1);
  let child: ChildProcess | undefined;
  const store = {
    env,
    s3,
    async start() {
      const out = openSync(join(dir, 's3proxy.log'), 'a');
      child = spawn(findJava(17)!, ['-Xmx192m', '-jar', s3proxyJar, '--properties', conf], { stdio: ['ignore', out, out] });
      await waitFor(`the private S3Proxy on :${port}`, async () => s3.send(new ListBucketsCommand({})).then(() => true, () => undefined), 90_000);
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return; // not running, or stopped already
      const exited = new Promise((res) => child!.once('exit', res));
      child.kill('SIGKILL');
      await exited;
    },
  };
  await store.start();
  await s3.send(new CreateBucketCommand({ Bucket: env.S3_BUCKET }));
  return store;
}
