import { randomBytes } from 'node:crypto';

/**
 * A new KRaft cluster id: a base64url UUID for `StorageTool format -t`. An id that starts with '-'
 * reads as an option there and fails the format (1 random id in 64); clearing the top bit keeps
 * the first character within A–Z, a–f.
 */
export function newClusterId(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('base64url');
}
