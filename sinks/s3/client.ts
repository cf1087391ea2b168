import { S3Client } from '@aws-sdk/client-s3';

export interface S3Settings {
  S3_ENDPOINT?: string;
  S3_REGION: string;
  S3_FORCE_PATH_STYLE: boolean;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  S3_REQUEST_TIMEOUT_MS?: number;
}

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
