import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { simulateDevices } from '../connectors/mqtt/simulate.ts';

const usage = `usage: bin/simulate-devices [options]

Publishes sensor readings like a fleet of devices and prints the achieved rate and PUBACK count.

  --devices <n>       devices (10)
  --sensors <list>    sensor types, comma-separated (temperature,humidity,pressure,co2)
  --rate <n>          messages per second over all devices (100)
  --count <n>         messages in all (default: rate × duration)
  --duration <s>      seconds (10)
  --qos <0|1>         (1)
  --format <f>        bare (22.5) or json ({"value":22.5,"time":"…"}) (bare)
  --anomalies <p>     share of temperature readings above ALERT_THRESHOLD (0)
  --prefix <p>        topic prefix (sensors)
  --broker <url>      (MQTT_BROKER, else mqtt://127.0.0.1:1883)

Environment: MQTT_BROKER, ALERT_THRESHOLD (35), MQTT_USERNAME, MQTT_PASSWORD, MQTT_CA_FILE,
MQTT_CERT_FILE, MQTT_KEY_FILE.`;

const { values: v } = parseArgs({
  options: {
    devices: { type: 'string', default: '10' }, sensors: { type: 'string', default: 'temperature,humidity,pressure,co2' },
    rate: { type: 'string', default: '100' }, count: { type: 'string' }, duration: { type: 'string', default: '10' },
    qos: { type: 'string', default: '1' }, format: { type: 'string', default: 'bare' }, anomalies: { type: 'string', default: '0' },
    prefix: { type: 'string', default: 'sensors' }, broker: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
});
if (v.help) {
  console.log(usage);
  process.exit(0);
}
const num = (name: string, text: string, min: number, max: number) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}\n\n${usage}`);
    process.exit(2);
  }
  return n;
};
const env = process.env;
if (!['0', '1'].includes(v.qos) || !['bare', 'json'].includes(v.format)) {
  console.error(`--qos must be 0 or 1 and --format bare or json\n\n${usage}`);
  process.exit(2);
}
const rate = num('rate', v.rate, 0.1, 1e7);
const file = (f: string | undefined) => (f ? readFileSync(f) : undefined);
const result = await simulateDevices({
  broker: v.broker ?? env.MQTT_BROKER ?? 'mqtt://127.0.0.1:1883',
  connect: { username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD, ca: file(env.MQTT_CA_FILE), cert: file(env.MQTT_CERT_FILE), key: file(env.MQTT_KEY_FILE) },
  devices: Math.floor(num('devices', v.devices, 1, 1e6)),
  sensors: v.sensors.split(',').map((s) => s.trim()).filter(Boolean),
  rate,
  count: Math.floor(v.count ? num('count', v.count, 1, 1e9) : rate * num('duration', v.duration, 0.1, 1e6)),
  qos: Number(v.qos) as 0 | 1,
  format: v.format as 'bare' | 'json',
  anomalies: num('anomalies', v.anomalies, 0, 1),
  threshold: num('ALERT_THRESHOLD', env.ALERT_THRESHOLD ?? '35', -1e6, 1e6),
  prefix: v.prefix,
});
console.log(`sent ${result.sent} messages in ${result.seconds.toFixed(2)} s: ${(result.sent / result.seconds).toFixed(0)} msg/s; ` +
  `PUBACKs ${result.pubacks}${v.qos === '0' ? ' (QoS 0: none expected)' : ''}; temperature anomalies ${result.anomalies}`);
