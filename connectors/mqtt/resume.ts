import type { Logger } from 'pino';
import type { KafkaAdapter, AvroSerde } from '../../core/component.ts';
import { learnFromTail, parseDelivery, type Delivery, type Learned } from './redelivery.ts';
import type { SensorReading } from './parse.ts';

export interface Resumed extends Learned {
  /** The latest time the connector's clock gave (µs since the epoch), 0 when none. */
  clockUs: number;
}

/**
 * Before it subscribes, a connector reads the last `window` records of each partition of the topics
 * it writes, keeps those written under its client id, and learns which messages may still be owed a
 * PUBACK (see learnFromTail) and where its clock stood.
 */
export async function resumeFromKafka(kafka: KafkaAdapter, opts: { readings: string; deadLetters: string; clientId: string; window: number; serde: AvroSerde<SensorReading>; log: Logger }): Promise<Resumed> {
  const deliveries: Delivery[] = [];
  let clockUs = 0;
  for (const topic of [opts.readings, opts.deadLetters]) {
    await kafka.readTail(topic, opts.window, (_, records) => {
      for (const r of records) {
        if (r.headers['mqtt.client'] !== opts.clientId) continue;
        const d = parseDelivery(r.headers);
        if (d === undefined) continue;
        deliveries.push(d);
        if (topic !== opts.readings) continue;
        try {
          const reading = opts.serde.decode(r.value);
          if (reading.time_source === 'connector') clockUs = Math.max(clockUs, reading.time * 1000 + (reading.time_us ?? 0));
        } catch {
          // Not ours to judge here: the topologies dead-letter what does not decode.
        }
      }
    });
  }
  const learned = learnFromTail(deliveries, opts.window);
  if (learned.doubt) opts.log.warn({ doubt: learned.doubt }, 'redeliveries will be written again (possible duplicates, never a loss)');
  opts.log.info({ records: deliveries.length, possiblyUnacked: learned.unacked.size, nextSeq: learned.nextSeq }, 'learned what this client wrote before');
  return { ...learned, clockUs };
}
