import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { data } from './paths.ts';

export const versions = {
  kafka: '4.4.0',
  /** Apicurio 3.1+ needs Java 21; 3.0.9 is the newest that runs on Java 17. */
  registry: { java21: '3.3.3', java17: '3.0.9' },
  s3proxy: '4.1.0',
} as const;

export const ports = { kafka: 9092, kafkaController: 9093, registry: 8081, registryManagement: 8091, s3: 9000, postgres: 5432, mqtt: 1883 } as const;

/** The object store's secret key: made once per machine, kept outside git with mode 0600. */
export function s3Secret(): string {
  const file = join(data, 's3proxy', 'secret');
  if (!existsSync(file)) {
    mkdirSync(join(data, 's3proxy'), { recursive: true });
    writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/** Connection settings under the names the rest of Sluice reads (`bin/stack env`). */
export function stackEnv(): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`,
    S3_ENDPOINT: `http://127.0.0.1:${ports.s3}`,
    S3_BUCKET: 'sluice',
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'sluice',
    S3_SECRET_ACCESS_KEY: s3Secret(),
    TIMESCALE_URL: `postgres://postgres@127.0.0.1:${ports.postgres}/sluice`,
    MQTT_BROKER: `mqtt://127.0.0.1:${ports.mqtt}`,
  };
}
