import { loadConfig } from '../../core/config.ts';
import { ingestSchema } from './ingest-settings.ts';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', MQTT_BROKER: 'mqtt://127.0.0.1:1883' };

test('defaults: persistent client id, sensors template and filter, sensor-readings, a window of 5000', () => {
  const cfg = loadConfig(ingestSchema, base);
  expect(cfg).toMatchObject({ MQTT_CLIENT_ID: 'sluice-ingest', INGEST_TOPIC: 'sensor-readings', INGEST_INFLIGHT: 5000, MQTT_SESSION_EXPIRY_S: 604800 });
  expect(cfg.MQTT_TOPIC_TEMPLATE.text).toBe('sensors/{device_id}/{sensor_type}');
});

test('a bad template, a certificate without its key and a password without a user are refused by name, never echoing the password', () => {
  expect(() => loadConfig(ingestSchema, { ...base, MQTT_TOPIC_TEMPLATE: 'sensors/{device_id}' })).toThrow(/MQTT_TOPIC_TEMPLATE: .*\{sensor_type\}/);
  expect(() => loadConfig(ingestSchema, { ...base, MQTT_CERT_FILE: '/x/client.crt' })).toThrow(/MQTT_CERT_FILE and MQTT_KEY_FILE go together/);
  let message = '';
  try {
    loadConfig(ingestSchema, { ...base, MQTT_PASSWORD: 'hunter2-secret' });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/MQTT_USERNAME/);
  expect(message).not.toContain('hunter2-secret');
});
