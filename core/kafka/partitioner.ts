import type { ICustomPartitioner } from 'kafkajs';

const M = 0x5bd1e995;

/** The Java client's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) in 32-bit integer arithmetic. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= data[whole + 2]! << 16;
    // falls through
    case 2:
      h ^= data[whole + 1]! << 8;
    // falls through
    case 1:
      h ^= data[whole]!;
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's default partitioning, as the Java client and kafkajs' DefaultPartitioner do it: the given
 * partition, else murmur2 of the key modulo the partition count, else round robin over partitions
 * with a leader (the choice is then written into the message). kafkajs' own computes murmur2 with 64-bit Long objects, several per key byte.
 */
export const javaCompatiblePartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const key = message.key;
    if (key !== null && key !== undefined) {
      return (murmur2(typeof key === 'string' ? Buffer.from(key) : key) & 0x7fffffff) % partitionMetadata.length;
    }
    const next = (counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1;
    counters.set(topic, next);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    // The choice sticks to the message: kafkajs partitions a send again at each retry, and a retry
    // sent to another partition is no longer the same batch to an idempotent producer. The fault
    // suite found a dead letter in two partitions, and the next one of the first partition dropped
    // by Kafka as a duplicate of the first attempt (its sequence numbers had been given back).
    message.partition = available.length > 0 ? available[(next & 0x7fffffff) % available.length]!.partitionId : (next & 0x7fffffff) % partitionMetadata.length;
    return message.partition;
  };
};
