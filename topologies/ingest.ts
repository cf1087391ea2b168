import { defineConnector } from '../core/index.ts';
import { loadConfig } from '../core/config.ts';
import { ingestSchema } from '../connectors/mqtt/config.ts';
import { startIngest } from '../connectors/mqtt/source.ts';

/** MQTT → Avro SensorReading on Kafka; settings in connectors/mqtt/config.ts and the README. */
export const ingest = defineConnector({
  name: 'ingest',
  description: 'MQTT sensors/+/+ → Avro sensor-readings on Kafka (PUBACK only after Kafka acks)',
  run: (log) => startIngest(loadConfig(ingestSchema), log),
});
