import { SerdeError } from './errors.ts';

/** Confluent wire format: magic byte 0, big-endian int32 schema id, then the Avro body. */
export const MAGIC = 0;
export const HEADER_BYTES = 5;

export function decodeWire(bytes: Buffer | null): { schemaId: number; body: Buffer } {
  if (bytes === null) throw new SerdeError('empty', 'record has no value (a tombstone where a reading was expected)');
  if (bytes.length < HEADER_BYTES) throw new SerdeError('truncated', `record has ${bytes.length} bytes, fewer than the 5-byte header`);
  if (bytes[0] !== MAGIC) throw new SerdeError('bad-magic', `first byte is ${bytes[0]}, expected magic byte 0 (Confluent wire format)`);
  return { schemaId: bytes.readInt32BE(1), body: bytes.subarray(HEADER_BYTES) };
}
