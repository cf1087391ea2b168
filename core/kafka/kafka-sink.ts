import type { Sink, SinkFactory } from '../sink.ts';
import { AvroSerde, readSchema } from '../serde/avro.ts';
import { assertTopicName, valueSubject } from '../naming.ts';
import type { OutgoingRecord } from './adapter.ts';

export interface KafkaSinkConfig {
  /** Topic written. */
  topic: string;
  /** Avro schema of the values: `schemas/<schema>.avsc`, registered under `<topic>-value`. */
  schema: string;
}

/** Writes Avro records (Confluent wire format) to a Kafka topic, one produce request per batch. */
export function kafkaSink(config: KafkaSinkConfig): SinkFactory {
  assertTopicName(config.topic);
  return async ({ kafka, registry }) => {
    const serde = new AvroSerde(registry, valueSubject(config.topic), readSchema(config.schema));
    let ready = false;
    const sink: Sink = {
      async check() {
        await kafka.ping();
        if (!ready) {
          await serde.init();
          ready = true;
        }
      },
      topics: () => [config.topic],
      async write(records, _source, reject) {
        const messages: OutgoingRecord[] = [];
        for (const r of records) {
          try {
            messages.push({ key: r.key, value: serde.encode(r.value), headers: r.headers });
          } catch (err) {
            reject(r, 'serialize', err as Error);
          }
        }
        await kafka.send([{ topic: config.topic, messages }]);
      },
      close: async () => undefined,
    };
    return sink;
  };
}
