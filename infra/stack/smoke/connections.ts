import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { connectionSchema, loadConfig } from '../../../core/config.ts';

/** Settings of the running stack, from the environment that `bin/test` exports. */
export const conn = loadConfig(connectionSchema);

/** A name no other test or run uses: tests never share topics, subjects, tables or keys. */
export const uniqueName = (prefix: string) => `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`;

export function s3Client(): S3Client {
  return new S3Client({
    endpoint: conn.S3_ENDPOINT,
    region: conn.S3_REGION,
    forcePathStyle: conn.S3_FORCE_PATH_STYLE,
    credentials: conn.S3_ACCESS_KEY_ID && conn.S3_SECRET_ACCESS_KEY
      ? { accessKeyId: conn.S3_ACCESS_KEY_ID, secretAccessKey: conn.S3_SECRET_ACCESS_KEY }
      : undefined,
    // Checksums only where S3 requires them: S3-compatible stores do not all know the CRC trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
