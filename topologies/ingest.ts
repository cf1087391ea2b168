import mqtt from 'mqtt';
import type { Logger } from 'pino';
import {
  defineConnector, type CheckResult, loadConfig, maskSetting, DLQ_TOPIC, valueSubject,
  RegistryClient, AvroSerde, readSchema, checkTimeoutMs, connectForCheck, probeAll,
} from '../core/component.ts';
import { ingestSchema, type IngestConfig } from '../connectors/mqtt/ingest-settings.ts';
import { templateFilter } from '../connectors/mqtt/parse.ts';
import { clientOptions, startIngest } from '../connectors/mqtt/source.ts';

/** MQTT → Avro SensorReading on Kafka; settings in connectors/mqtt/ingest-settings.ts and the README. */
export const ingest = defineConnector({
  name: 'ingest',
  description: 'MQTT sensors/# → Avro sensor-readings on Kafka (PUBACK only after Kafka acks)',
  opsPort: 9464,
  settings: [ingestSchema],
  run: (log, env) => startIngest(loadConfig(ingestSchema, env), log),
  check: (log, env) => checkIngest(loadConfig(ingestSchema, env), log),
});

/** Connects to the broker under a client id of its own, with a clean session: the connector's session and queue are left alone. */
async function mqttAnswers(cfg: IngestConfig, ms: number): Promise<void> {
  const client = mqtt.connect(cfg.MQTT_BROKER, {
    ...clientOptions(cfg), clientId: `${cfg.MQTT_CLIENT_ID}-check-${process.pid}`, clean: true,
    properties: { sessionExpiryInterval: 0 }, manualConnect: false, reconnectPeriod: 0, connectTimeout: ms,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error(`${maskSetting('MQTT_BROKER', cfg.MQTT_BROKER)} closed the connection before accepting it`)));
    });
  } finally {
    client.end(true);
  }
}

async function checkIngest(cfg: IngestConfig, log: Logger): Promise<CheckResult> {
  const ms = checkTimeoutMs(cfg);
  const base = cfg.MQTT_TOPIC_FILTER ?? templateFilter(cfg.MQTT_TOPIC_TEMPLATE);
  const filter = cfg.MQTT_SHARE_GROUP ? `$share/${cfg.MQTT_SHARE_GROUP}/${base}` : base;
  const plan = [
    `source: MQTT ${filter} at ${maskSetting('MQTT_BROKER', cfg.MQTT_BROKER)} (session ${cfg.MQTT_CLIENT_ID}, QoS 1)`,
    `sinks: Kafka ${cfg.INGEST_TOPIC} (Avro sensor-readings, subject ${valueSubject(cfg.INGEST_TOPIC)})`,
    `dead letters: ${DLQ_TOPIC}`,
    'state stores: none (resumes from what it wrote to Kafka)',
    `ops port: ${cfg.SLUICE_OPS_PORT}`,
  ];
  const kafka = await connectForCheck(cfg.KAFKA_BROKERS, 'sluice-ingest-check', log, ms);
  try {
    const registry = new RegistryClient(cfg.SCHEMA_REGISTRY_URL, { timeoutMs: ms });
    const dependencies = await probeAll({
      kafka: async () => {
        if (kafka instanceof Error) throw kafka;
      },
      'schema-registry': () => new AvroSerde(registry, valueSubject(cfg.INGEST_TOPIC), readSchema('sensor-readings')).init(),
      mqtt: () => mqttAnswers(cfg, ms),
    }, ms);
    return { plan, dependencies };
  } finally {
    if (!(kafka instanceof Error)) await kafka.close().catch(() => undefined);
  }
}
