import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';

/** The object store's settings, declared once: the archiver, bin/retention and bin/archive-verify read them. */
export const s3Schema = z.object({
  S3_ENDPOINT: z.url().optional().describe('An S3-compatible store (S3Proxy, MinIO); absent: AWS.'),
  S3_BUCKET: z.string().min(3).describe('The bucket.'),
  S3_REGION: z.string().default('us-east-1').describe('The region (any for an S3-compatible store).'),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true').describe('Bucket in the path (S3Proxy, MinIO), not in the host name.'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional().describe('Access key; absent: the AWS default credential chain.'),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional().describe('Secret key (never shown nor logged).'),
  S3_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000).describe('A request to the object store that has not answered after this long fails (and is retried), in ms.'),
});
export type S3Settings = Omit<z.output<typeof s3Schema>, 'S3_BUCKET' | 'S3_REQUEST_TIMEOUT_MS'> & { S3_REQUEST_TIMEOUT_MS?: number };

/** An S3 client for AWS or an S3-compatible store (S3Proxy, MinIO), from the S3_* settings. */
export function createS3Client(s: S3Settings, maxAttempts = 3): S3Client {
  return new S3Client({
    endpoint: s.S3_ENDPOINT,
    region: s.S3_REGION,
    forcePathStyle: s.S3_FORCE_PATH_STYLE,
    credentials: s.S3_ACCESS_KEY_ID && s.S3_SECRET_ACCESS_KEY
      ? { accessKeyId: s.S3_ACCESS_KEY_ID, secretAccessKey: s.S3_SECRET_ACCESS_KEY }
      : undefined,
    // Checksums only where S3 requires them: S3-compatible stores do not all know the CRC trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts,
    // A store that stops answering fails the request (then it is retried) instead of hanging it;
    // without throwOnRequestTimeout the SDK only logs a warning and keeps waiting.
    requestHandler: { connectionTimeout: 5000, requestTimeout: s.S3_REQUEST_TIMEOUT_MS ?? 60_000, throwOnRequestTimeout: true },
  });
}
