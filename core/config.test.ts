import { connectionSchema, loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';

const valid = {
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.2:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7',
  S3_BUCKET: 'sluice',
  S3_SECRET_ACCESS_KEY: 'hunter2-secret',
  TIMESCALE_URL: 'postgres://postgres@127.0.0.1:5432/sluice',
  MQTT_BROKER: 'mqtt://127.0.0.1:1883',
};

test('parses broker lists and applies defaults', () => {
  const c = loadConfig(connectionSchema, valid);
  expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:9092', '127.0.0.2:9092']);
  expect(c.S3_REGION).toBe('us-east-1');
  expect(c.S3_FORCE_PATH_STYLE).toBe(true);
});

test('names every missing or invalid variable and never echoes a value', () => {
  const env = { ...valid, KAFKA_BROKERS: 'no-port', TIMESCALE_URL: undefined, S3_SECRET_ACCESS_KEY: '' };
  let err: unknown;
  try {
    loadConfig(connectionSchema, env);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  const msg = (err as Error).message;
  expect(msg).toMatch(/KAFKA_BROKERS.*host:port/);
  expect(msg).toMatch(/TIMESCALE_URL: not set/);
  expect(msg).toMatch(/S3_SECRET_ACCESS_KEY/);
  expect(msg).not.toContain('no-port');
});
