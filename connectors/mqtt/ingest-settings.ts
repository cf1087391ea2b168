import { z } from 'zod';
import { runtimeSchema } from '../../core/component.ts';
import { compileTemplate } from './parse.ts';

const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);
const file = z.string().min(1).optional();

/** What `bin/run-topology ingest` reads from the environment (on top of the runtime's settings). */
export const ingestSchema = runtimeSchema.extend({
  MQTT_BROKER: z.url().describe('mqtt://host:port or mqtts://host:port.'),
  MQTT_CLIENT_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected 1-128 of A-Z a-z 0-9 _ . : -').default('sluice-ingest').describe('Stable client id: the broker keeps the session (and what is queued for it) under this name.'),
  MQTT_TOPIC_TEMPLATE: z.string().default('sensors/{device_id}/{sensor_type}').transform((t, ctx) => {
    try {
      return compileTemplate(t);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }).describe('The topic of a reading, with {device_id} and {sensor_type} where they are.'),
  MQTT_TOPIC_FILTER: z.string().min(1).optional().describe('Subscription filter; default: the template\'s literal prefix and `#` (`sensors/#`). A topic that does not fit the template goes to the dead-letter topic (`topic-mismatch`).'),
  MQTT_SHARE_GROUP: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 _ . -').optional().describe('With a group, processes share the load through `$share/<group>/<filter>`.'),
  MQTT_USERNAME: z.string().min(1).optional().describe('User name at the broker.'),
  MQTT_PASSWORD: z.string().min(1).optional().describe('Password at the broker (never shown nor logged).'),
  MQTT_CA_FILE: file.describe('PEM file: the CA that signed the broker\'s certificate (TLS).'),
  MQTT_CERT_FILE: file.describe('PEM file: the client certificate (with MQTT_KEY_FILE).'),
  MQTT_KEY_FILE: file.describe('PEM file: the client certificate\'s key.'),
  MQTT_SESSION_EXPIRY_S: int(60, 0xffffffff, 7 * 24 * 3600).describe('How long the broker keeps the session while the connector is away, in seconds.'),
  INGEST_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a Kafka topic name').default('sensor-readings').describe('Kafka topic the readings go to.'),
  INGEST_INFLIGHT: int(1, 65_535, 5000).describe('Messages received but not yet acknowledged (MQTT 5 Receive Maximum): the backpressure window.'),
  INGEST_BATCH_MAX: int(1, 100_000, 1000).describe('Most records per Kafka produce request; four are in flight at once.'),
  INGEST_MAX_PAYLOAD_BYTES: int(1, 1 << 20, 4096).describe('Largest message accepted; a larger one goes to the dead-letter topic (`too-large`).'),
  INGEST_MAX_FUTURE_MS: int(0, 365 * 24 * 3600 * 1000, 5 * 60 * 1000).describe('How far ahead of the receive time a reading\'s own time may be, in ms.'),
}).superRefine((c, ctx) => {
  if ((c.MQTT_CERT_FILE === undefined) !== (c.MQTT_KEY_FILE === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['MQTT_CERT_FILE'], message: 'MQTT_CERT_FILE and MQTT_KEY_FILE go together' });
  }
  if (c.MQTT_PASSWORD !== undefined && c.MQTT_USERNAME === undefined) {
    ctx.addIssue({ code: 'custom', path: ['MQTT_USERNAME'], message: 'needed when MQTT_PASSWORD is set' });
  }
});
export type IngestConfig = z.output<typeof ingestSchema>;
