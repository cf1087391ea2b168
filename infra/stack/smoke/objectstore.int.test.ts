import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, ListObjectsV2Command,
  PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { conn, s3Client, uniqueName } from './connections.ts';

const s3 = s3Client();
const Bucket = conn.S3_BUCKET;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
afterAll(() => s3.destroy());

test('put, list (ListObjectsV2 with prefix and pages) and get', async () => {
  const prefix = `${uniqueName('smoke')}/`;
  for (const name of ['a.txt', 'b.txt', 'c.txt']) {
    await s3.send(new PutObjectCommand({ Bucket, Key: `${prefix}${name}`, Body: `body of ${name}` }));
  }
  const first = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, MaxKeys: 2 }));
  expect(first.Contents?.map((o) => o.Key)).toEqual([`${prefix}a.txt`, `${prefix}b.txt`]);
  expect(first.IsTruncated).toBe(true);
  const rest = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: first.NextContinuationToken }));
  expect(rest.Contents?.map((o) => o.Key)).toEqual([`${prefix}c.txt`]);

  const got = await s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}b.txt` }));
  expect(await got.Body?.transformToString()).toBe('body of b.txt');
});

test('a multipart upload of 11 MiB reads back byte for byte', async () => {
  const Key = `${uniqueName('smoke')}/big.bin`;
  const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(1024 * 1024)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const etags = [];
  for (const [i, Body] of parts.entries()) {
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }));
    etags.push({ ETag, PartNumber: i + 1 });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags } }));

  const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
  const body = await got.Body!.transformToByteArray();
  expect(body.length).toBe(11 * 1024 * 1024);
  expect(sha(body)).toBe(sha(Buffer.concat(parts)));
});
