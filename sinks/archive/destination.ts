import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { faultPoint } from '../../core/component.ts';

/**
 * Where archived objects go: an S3-compatible bucket or a local folder. A `put` is all or nothing:
 * a reader never sees part of an object.
 */
export interface Destination {
  /** Says what is wrong when the destination cannot be written (missing bucket, bad credentials). */
  check(): Promise<void>;
  put(key: string, body: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Keys under `prefix`, ascending. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** Where it is, for messages: `s3://bucket` or a path. */
  readonly name: string;
}

function* halves(body: Buffer) {
  yield body.subarray(0, body.length >> 1);
  faultPoint('archive.upload');
  yield body.subarray(body.length >> 1);
}

/**
 * A bucket of S3 or of an S3-compatible store. Bodies of `partBytes` or more go up as multipart
 * uploads (parts of `partBytes`; S3 wants at least 5 MiB), smaller ones with one PutObject.
 * Transient failures are retried by the client (its `maxAttempts`); the archive sink retries the rest.
 */
export function s3Destination(s3: S3Client, bucket: string, partBytes: number): Destination {
  const Bucket = bucket;
  return {
    name: `s3://${bucket}`,
    async check() {
      await s3.send(new HeadBucketCommand({ Bucket }));
    },
    async put(Key, body) {
      if (body.length < partBytes) {
        // Under fault injection the body goes out in two halves, with the fault point between them:
        // a kill there cuts the request short, and S3 stores nothing.
        const Body = process.env.SLUICE_FAULT ? Readable.from(halves(body)) : body;
        await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: body.length }));
        return;
      }
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      try {
        const Parts = [];
        for (let at = 0, PartNumber = 1; at < body.length; at += partBytes, PartNumber++) {
          const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body.subarray(at, at + partBytes) }));
          Parts.push({ ETag, PartNumber });
          faultPoint('archive.upload'); // between parts: an unfinished multipart upload is not an object
        }
        await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
      } catch (err) {
        await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
        throw err;
      }
    },
    async get(Key) {
      const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
      return Buffer.from(await got.Body!.transformToByteArray());
    },
    async list(Prefix) {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return keys.sort();
    },
    async delete(Key) {
      await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    },
  };
}

/** A local folder: keys are relative paths. Writes go to a temporary name, then are renamed. */
export function folderDestination(root: string): Destination {
  const path = (key: string) => join(root, ...key.split('/'));
  const walk = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const found = await Promise.all(entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])));
    return found.flat();
  };
  return {
    name: root,
    async check() {
      await mkdir(root, { recursive: true });
    },
    async put(key, body) {
      const file = path(key);
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, body);
      faultPoint('archive.upload');
      await rename(tmp, file);
    },
    get: (key) => readFile(path(key)),
    async list(prefix) {
      const keys = (await walk(root)).map((f) => relative(root, f).split(sep).join('/'));
      return keys.filter((k) => k.startsWith(prefix) && !k.endsWith('.tmp')).sort();
    },
    async delete(key) {
      await rm(path(key), { force: true });
    },
  };
}
