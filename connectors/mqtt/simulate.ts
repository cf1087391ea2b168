import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions } from 'mqtt';

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
    while (sent < o.count) {
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
