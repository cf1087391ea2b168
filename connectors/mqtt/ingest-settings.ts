import { z } from 'zod';
import { runtimeSchema } from '../../core/component.ts';
import { compileTemplate } from './parse.ts';

const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);
const file = z.string().min(1).optional();

/** What `bin/run-topology ingest` reads from the environment (on top of the runtime's settings). */
export const ingestSchema = runtimeSchema.extend({
  /** mqtt://host:port or mqtts://host:port. */
  MQTT_BROKER: z.url(),
  /** Stable client id: the broker keeps the session (and what is queued for it) under this name. */
  MQTT_CLIENT_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected 1-128 of A-Z a-z 0-9 _ . : -').default('sluice-ingest'),
  MQTT_TOPIC_TEMPLATE: z.string().default('sensors/{device_id}/{sensor_type}').transform((t, ctx) => {
    try {
      return compileTemplate(t);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  /** Subscription filter; default: the template with its fields as `+`. */
  MQTT_TOPIC_FILTER: z.string().min(1).optional(),
  /** With a group, processes share the load through `$share/<group>/<filter>`. */
  MQTT_SHARE_GROUP: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 _ . -').optional(),
  MQTT_USERNAME: z.string().min(1).optional(),
  MQTT_PASSWORD: z.string().min(1).optional(),
  /** PEM files for TLS: the CA that signed the broker's certificate, and the client's certificate and key. */
  MQTT_CA_FILE: file,
  MQTT_CERT_FILE: file,
  MQTT_KEY_FILE: file,
  /** How long the broker keeps the session while the connector is away, in seconds. */
  MQTT_SESSION_EXPIRY_S: int(60, 0xffffffff, 7 * 24 * 3600),
  /** Kafka topic the readings go to. */
  INGEST_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a Kafka topic name').default('sensor-readings'),
  /** Messages received but not yet acknowledged (MQTT 5 Receive Maximum): the backpressure window. */
  INGEST_INFLIGHT: int(1, 65_535, 5000),
  /** Most records per Kafka produce request; four are in flight at once. */
  INGEST_BATCH_MAX: int(1, 100_000, 1000),
  INGEST_MAX_PAYLOAD_BYTES: int(1, 1 << 20, 4096),
  /** How far ahead of the receive time a reading's own time may be, in ms. */
  INGEST_MAX_FUTURE_MS: int(0, 365 * 24 * 3600 * 1000, 5 * 60 * 1000),
}).superRefine((c, ctx) => {
  if ((c.MQTT_CERT_FILE === undefined) !== (c.MQTT_KEY_FILE === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['MQTT_CERT_FILE'], message: 'MQTT_CERT_FILE and MQTT_KEY_FILE go together' });
  }
  if (c.MQTT_PASSWORD !== undefined && c.MQTT_USERNAME === undefined) {
    ctx.addIssue({ code: 'custom', path: ['MQTT_USERNAME'], message: 'needed when MQTT_PASSWORD is set' });
  }
});
export type IngestConfig = z.output<typeof ingestSchema>;
