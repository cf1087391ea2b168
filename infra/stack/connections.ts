// Every service's connection settings in one schema, for tests, benchmarks and the stack's own tools;
// each is declared by the component that reads it, and only picked here.
import { runtimeSchema } from '../../core/component.ts';
import { ingestSchema } from '../../connectors/mqtt/ingest-settings.ts';
import { s3Schema } from '../../sinks/s3/client.ts';
import { timescaleSchema } from '../../sinks/timescale/timescale-settings.ts';

export const connectionSchema = s3Schema.extend({
  KAFKA_BROKERS: runtimeSchema.shape.KAFKA_BROKERS,
  SCHEMA_REGISTRY_URL: runtimeSchema.shape.SCHEMA_REGISTRY_URL,
  TIMESCALE_URL: timescaleSchema.shape.TIMESCALE_URL,
  MQTT_BROKER: ingestSchema.shape.MQTT_BROKER,
});
