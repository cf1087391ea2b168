import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions } from 'mqtt';
import { ConfigError } from '../../core/errors.ts';

export interface SimulateOptions {
  broker: string;
  /** Connection options (credentials, TLS). */
  connect?: IClientOptions;
  devices: number;
  sensors: string[];
  /** Messages per second, over all devices. */
  rate: number;
  /** Messages in all. */
  count: number;
  /** Stops publishing early (Ctrl-C); what was published is still waited for and counted. */
  signal?: AbortSignal;
  qos: 0 | 1;
  format: 'bare' | 'json';
  /** Share of temperature readings that spike above `threshold`, 0 to 1. */
  anomalies: number;
  threshold: number;
  /** Topic prefix: readings go to `<prefix>/<device>/<sensor>`. */
  prefix: string;
}

export interface SimulateResult {
  sent: number;
  pubacks: number;
  anomalies: number;
  seconds: number;
}

export const simulateUsage = `usage: bin/simulate-devices [options]

Publishes sensor readings like a fleet of devices and prints the achieved rate and PUBACK count.

  --devices <n>       devices (10)
  --sensors <list>    sensor types, comma-separated (temperature,humidity,pressure,co2)
  --rate <n>          messages per second over all devices (100)
  --count <n>         messages in all (default: rate × duration)
  --duration <s>      seconds (10); SIGINT or SIGTERM stops it early, with its summary
  --qos <0|1>         (1)
  --format <f>        bare (22.5) or json ({"value":22.5,"time":"…"}) (bare)
  --anomalies <p>     share of temperature readings above ALERT_THRESHOLD (0)
  --prefix <p>        topic prefix (sensors)
  --broker <url>      (MQTT_BROKER, else mqtt://127.0.0.1:1883)

Environment: MQTT_BROKER, ALERT_THRESHOLD (35), MQTT_USERNAME, MQTT_PASSWORD, MQTT_CA_FILE,
MQTT_CERT_FILE, MQTT_KEY_FILE.`;

/** `bin/simulate-devices`'s options (every one a string, as parsed) and environment → SimulateOptions; ConfigError names a bad one. */
export function simulateOptionsFrom(v: Record<string, string | undefined>, env: Record<string, string | undefined> = process.env): SimulateOptions {
  const num = (name: string, text: string | undefined, def: number, min: number, max: number) => {
    const n = text === undefined ? def : Number(text);
    if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
  const oneOf = <T extends string>(name: string, text: string | undefined, values: readonly T[], def: T): T => {
    if (text === undefined) return def;
    if (!values.includes(text as T)) throw new ConfigError(`${name} must be ${values.join(' or ')}, got ${JSON.stringify(text)}`);
    return text as T;
  };
  const file = (f: string | undefined) => (f ? readFileSync(f) : undefined);
  const rate = num('--rate', v.rate, 100, 0.1, 1e7);
  const sensors = (v.sensors ?? 'temperature,humidity,pressure,co2').split(',').map((s) => s.trim()).filter(Boolean);
  if (sensors.length === 0) throw new ConfigError(`--sensors must name at least one sensor type, got ${JSON.stringify(v.sensors)}`);
  return {
    broker: v.broker ?? env.MQTT_BROKER ?? 'mqtt://127.0.0.1:1883',
    connect: { username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD, ca: file(env.MQTT_CA_FILE), cert: file(env.MQTT_CERT_FILE), key: file(env.MQTT_KEY_FILE) },
    devices: Math.floor(num('--devices', v.devices, 10, 1, 1e6)),
    sensors,
    rate,
    count: Math.floor(v.count !== undefined ? num('--count', v.count, 0, 1, 1e9) : rate * num('--duration', v.duration, 10, 0.1, 1e6)),
    qos: Number(oneOf('--qos', v.qos, ['0', '1'], '1')) as 0 | 1,
    format: oneOf('--format', v.format, ['bare', 'json'], 'bare'),
    anomalies: num('--anomalies', v.anomalies, 0, 0, 1),
    threshold: num('ALERT_THRESHOLD', env.ALERT_THRESHOLD, 35, -1e6, 1e6),
    prefix: v.prefix ?? 'sensors',
  };
}

const normal: Record<string, [number, number]> = { temperature: [18, 28], humidity: [30, 70], pressure: [990, 1030], co2: [400, 1200] };

/** One reading: normal ranges per sensor type; a temperature anomaly is 2-15 degrees over the threshold. */
export function readingFor(sensor: string, anomaly: boolean, threshold: number, random = Math.random): number {
  if (anomaly) return Math.round((threshold + 2 + random() * 13) * 10) / 10;
  const [lo, hi] = normal[sensor] ?? [0, 100];
  return Math.round((lo + random() * (hi - lo)) * 10) / 10;
}

/** Publishes `count` readings round-robin over devices × sensors at `rate` per second. */
export async function simulateDevices(o: SimulateOptions): Promise<SimulateResult> {
  const client = await mqtt.connectAsync(o.broker, { clientId: `sluice-sim-${process.pid}`, ...o.connect });
  const maxOutstanding = 1000;
  let sent = 0;
  let pubacks = 0;
  let anomalies = 0;
  let outstanding = 0;
  const started = performance.now();
  try {
    while (sent < o.count && !o.signal?.aborted) {
      const due = Math.min(o.count, Math.floor(((performance.now() - started) / 1000) * o.rate) + 1);
      for (; sent < due && outstanding < maxOutstanding; sent++) {
        const device = `device-${String((sent % o.devices) + 1).padStart(3, '0')}`;
        const sensor = o.sensors[Math.floor(sent / o.devices) % o.sensors.length]!;
        const anomaly = sensor === 'temperature' && Math.random() < o.anomalies;
        if (anomaly) anomalies++;
        const value = readingFor(sensor, anomaly, o.threshold);
        const payload = o.format === 'json' ? JSON.stringify({ value, time: new Date().toISOString() }) : String(value);
        outstanding++;
        client.publish(`${o.prefix}/${device}/${sensor}`, payload, { qos: o.qos }, (err) => {
          outstanding--;
          if (!err && o.qos === 1) pubacks++;
        });
      }
      await sleep(sent < due ? 1 : 5);
    }
    while (outstanding > 0) await sleep(5);
  } finally {
    await client.endAsync();
  }
  return { sent, pubacks, anomalies, seconds: (performance.now() - started) / 1000 };
}
