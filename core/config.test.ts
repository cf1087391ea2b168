import { z } from 'zod';
import { loadConfig, maskSetting, settingsLines } from './config.ts';
import { connectionSchema } from '../infra/stack/connections.ts';
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

test('names every missing or invalid variable, one line each, and echoes no secret', () => {
  const env = { ...valid, KAFKA_BROKERS: 'no-port', TIMESCALE_URL: undefined, S3_SECRET_ACCESS_KEY: '', MQTT_BROKER: 'mqtt//user:pw@host' };
  let err: unknown;
  try {
    loadConfig(connectionSchema, env);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  const msg = (err as Error).message;
  expect(msg).toMatch(/KAFKA_BROKERS.*host:port, got "no-port"/);
  expect(msg).toMatch(/TIMESCALE_URL: not set/);
  expect(msg).toMatch(/S3_SECRET_ACCESS_KEY: .*characters$/m);
  expect(msg).toMatch(/MQTT_BROKER: expected a URL$/m);
  expect(msg).not.toContain('pw');
});

test('one wrong variable is one line that names it, what was expected and the value', () => {
  const schema = z.object({ ALERT_THRESHOLD: z.coerce.number().finite().default(35), API_TOKEN: z.coerce.number().optional() });
  expect(() => loadConfig(schema, { ALERT_THRESHOLD: 'abc' })).toThrow(new ConfigError('ALERT_THRESHOLD: expected a number, got "abc"'));
  expect(() => loadConfig(schema, { API_TOKEN: 'hunter2' })).toThrow(new ConfigError('API_TOKEN: expected a number'));
});

test('settings are listed with their defaults, secrets and URL passwords masked', () => {
  const env = { ...valid, TIMESCALE_URL: 'postgres://writer:s3cret@db:5432/sluice', S3_ACCESS_KEY_ID: 'AKIA1234' };
  const lines = settingsLines([connectionSchema], env, { S3_REGION: 'eu-west-1' });
  expect(lines).toContain('S3_SECRET_ACCESS_KEY=***');
  expect(lines).toContain('S3_ACCESS_KEY_ID=***');
  expect(lines).toContain('TIMESCALE_URL=postgres://writer:***@db:5432/sluice');
  expect(lines).toContain('S3_REGION=eu-west-1 (default)');
  expect(lines).toContain('S3_REQUEST_TIMEOUT_MS=60000 (default)');
  expect(lines).toContain('S3_ENDPOINT (not set)');
  expect(lines.join('\n')).not.toMatch(/hunter2|s3cret|AKIA/);
  expect(maskSetting('ALERT_WEBHOOK_URL', 'https://hooks.example/T0/B0/xyz')).toBe('***');
  expect(() => settingsLines([connectionSchema], { ...env, S3_REQUEST_TIMEOUT_MS: '5' })).toThrow('S3_REQUEST_TIMEOUT_MS: must be >= 100, got "5"');
});
