import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { data } from './paths.ts';

export const versions = {
  kafka: '4.4.0',
  /** Apicurio 3.1+ needs Java 21; 3.0.9 is the newest that runs on Java 17. */
  registry: { java21: '3.3.3', java17: '3.0.9' },
  s3proxy: '4.1.0',
} as const;

export const ports = { kafka: 9092, kafkaController: 9093, registry: 8081, registryManagement: 8091, s3: 9000, postgres: 5432 } as const;

/** Where the stack's own Mosquitto would rather listen: MQTT and MQTT over WebSockets. */
export const mqttPreferred = { mqtt: 1883, ws: 9001 } as const;
export interface MqttPorts { mqtt: number; ws: number }
/** The ports chosen for the stack's Mosquitto, kept so that they stay the same from one `up` to the next. */
export const mqttPortsFile = () => join(data, 'mosquitto', 'ports.json');

/** TCP ports something listens on, on any address (Linux: /proc/net/tcp and tcp6). */
export function listeningPorts(): Set<number> {
  const found = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local) found.add(Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return found;
}

/**
 * The preferred ports where free, else the next free ones (e.g. 1884 when the machine's own
 * Mosquitto holds 1883); never a port of the stack's other services.
 */
export function pickMqttPorts(taken: ReadonlySet<number>, span = 100): MqttPorts {
  const avoid = new Set<number>([...taken, ...Object.values(ports)]);
  const pick = (from: number) => {
    for (let p = from; p < from + span; p++) {
      if (!avoid.has(p)) {
        avoid.add(p);
        return p;
      }
    }
    throw new Error(`no free port for Mosquitto in ${from}-${from + span - 1}`);
  };
  return { mqtt: pick(mqttPreferred.mqtt), ws: pick(mqttPreferred.ws) };
}

/**
 * The stack's Mosquitto ports: chosen the first time they are needed (`up`, `status` or `env`) from
 * the ports free then, and from then on read from `file`, so that MQTT_BROKER, and with it the
 * clients' persistent sessions, stay where they were.
 */
export function mqttPorts(file = mqttPortsFile(), taken: () => ReadonlySet<number> = listeningPorts): MqttPorts {
  if (existsSync(file)) {
    let saved: Partial<MqttPorts> | undefined;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<MqttPorts>;
    } catch {
      // reported below
    }
    const valid = (p: unknown): p is number => Number.isInteger(p) && (p as number) > 0 && (p as number) < 65536;
    if (!valid(saved?.mqtt) || !valid(saved?.ws) || saved.mqtt === saved.ws) throw new Error(`${file}: expected {"mqtt": <port>, "ws": <port>}; delete it to let bin/stack choose again`);
    return { mqtt: saved.mqtt, ws: saved.ws };
  }
  const chosen = pickMqttPorts(taken());
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(chosen)}\n`);
  return chosen;
}

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
  const mqtt = mqttPorts();
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
    MQTT_BROKER: `mqtt://127.0.0.1:${mqtt.mqtt}`,
    MQTT_WS_URL: `ws://127.0.0.1:${mqtt.ws}`,
  };
}
