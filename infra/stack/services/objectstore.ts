import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Service } from '../service.ts';
import { createS3Client } from '../../../sinks/s3/client.ts';
import { loadConfig } from '../../../core/config.ts';
import { connectionSchema } from '../connections.ts';
import { ports, s3Secret, stackEnv, versions } from '../settings.ts';
import { data, dist } from '../paths.ts';
import { fetchArtifact } from '../maven.ts';
import { startDetached, stopStarted } from '../proc.ts';
import { findJava } from '../java.ts';

/** The S3Proxy jar the stack fetches; tests start private instances of it too. */
export const s3proxyJar = join(dist, `s3proxy-${versions.s3proxy}-jar-with-dependencies.jar`);
const jar = s3proxyJar;

/** S3Proxy's properties for a filesystem-backed store on `port`. */
export function s3proxyProperties(port: number, identity: string, credential: string, basedir: string): string {
  return [
    `s3proxy.endpoint=http://127.0.0.1:${port}`,
    's3proxy.authorization=aws-v2-or-v4',
    `s3proxy.identity=${identity}`,
    `s3proxy.credential=${credential}`,
    'jclouds.provider=filesystem',
    `jclouds.filesystem.basedir=${basedir}`,
  ].join('\n');
}

function client(): S3Client {
  return createS3Client(loadConfig(connectionSchema, stackEnv()), 1);
}

/** S3Proxy with its filesystem backend: a real S3 API (SigV4, multipart, ListObjectsV2) on local disk. */
export const objectstore: Service = {
  name: 'objectstore',
  endpoint: `http://127.0.0.1:${ports.s3}`,
  startTimeoutMs: 60_000,
  async probe() {
    const s3 = client();
    try {
      await s3.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(2000) });
    } finally {
      s3.destroy();
    }
  },
  provision() {
    if (existsSync(jar)) return;
    console.error(`Fetching S3Proxy ${versions.s3proxy} (org.gaul:s3proxy, jar-with-dependencies) from Maven Central`);
    fetchArtifact(`org.gaul:s3proxy:${versions.s3proxy}:jar:jar-with-dependencies`, dist);
  },
  async start() {
    const dir = join(data, 's3proxy');
    mkdirSync(join(dir, 'blobs'), { recursive: true });
    const conf = join(dir, 's3proxy.conf');
    writeFileSync(conf, `${s3proxyProperties(ports.s3, stackEnv().S3_ACCESS_KEY_ID!, s3Secret(), join(dir, 'blobs'))}\n`, { mode: 0o600 });
    const java = findJava(17);
    if (!java) throw new Error('S3Proxy needs Java 17 or newer: install openjdk-17-jre-headless');
    return startDetached('objectstore', java, ['-Xmx256m', '-jar', jar, '--properties', conf]);
  },
  async prepare() {
    const s3 = client();
    const Bucket = stackEnv().S3_BUCKET;
    try {
      await s3.send(new HeadBucketCommand({ Bucket })).catch(() => s3.send(new CreateBucketCommand({ Bucket })));
    } finally {
      s3.destroy();
    }
  },
  stop: () => stopStarted('objectstore'),
};
