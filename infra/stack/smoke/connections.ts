import { randomBytes } from 'node:crypto';
import { createS3Client } from '../../../sinks/s3/client.ts';
import { loadConfig } from '../../../core/config.ts';
import { connectionSchema } from '../connections.ts';

/** Settings of the running stack, from the environment that `bin/test` exports. */
export const conn = loadConfig(connectionSchema);

/** A name no other test or run uses: tests never share topics, subjects, tables or keys. */
export const uniqueName = (prefix: string) => `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`;

export const s3Client = () => createS3Client(conn);
