// Keyed hourly aggregation (count, sum, min, max, avg per device and UTC hour, emit-final):
//  1. through the in-memory test driver, 10k and 100k distinct keys (target >= 300k records/s);
//  2. through Kafka, against the pass-through topology on the same pre-filled topic (target >= 0.8x).
// Each case runs in its own process, so peak RSS is that case's.
// Usage: eval "$(bin/stack env)"; bin/node bench/windowed.ts [kafka records=500000] [driver records=1000000]
import { map } from 'rxjs';
import { defineTopology, kafkaSink, windowedAggregate, TimeWindows, hours, minutes, type Topology } from '../core/index.ts';
import { TopologyTestDriver } from '../core/testing/index.ts';
import type { Reading } from '../schemas/records.ts';
import { benchLock, drain, inChild, passthrough, prefill, row } from './lib.ts';

benchLock('windowed');

interface Stats { count: number; sum: number; min: number; max: number }
const T0 = Date.UTC(2026, 10, 20);
// Event times of a run spread over two hours: each key has many readings per hour, as a sensor
// fleet does, and the first hour closes during the run.
const SPAN = hours(2);
const reading = (i: number, n: number, keys: number): Reading => {
  const time = T0 + Math.floor((i * SPAN) / n);
  return { device_id: `dev-${i % keys}`, sensor_type: 'temperature', value: 20 + (i % 17), unit: '°C', time, ingest_time: time };
};

function hourly(name: string, source: string, out: string): Topology<Reading> {
  return defineTopology<Reading>({
    name, description: 'benchmark hourly aggregation', source: { topic: source, schema: 'sensor-readings' },
    pipeline: (src) => src.pipe(
      windowedAggregate<Reading, Stats>({
        store: 'hourly', window: TimeWindows.tumbling({ size: hours(1), grace: minutes(10) }),
        initial: () => ({ count: 0, sum: 0, min: Infinity, max: -Infinity }),
        add: (s, r) => ({ count: s.count + 1, sum: s.sum + r.value.value, min: Math.min(s.min, r.value.value), max: Math.max(s.max, r.value.value) }),
        emit: 'final', buffer: { maxWindows: 1_000_000, whenFull: 'fail' },
      }),
      map((w) => ({ to: 'out', key: w.key, value: { device_id: w.key, sensor_type: 'temperature', value: w.value.sum / w.value.count, unit: '°C', time: w.start, ingest_time: w.end } })),
    ),
    sinks: { out: kafkaSink({ topic: out, schema: 'sensor-readings' }) },
  });
}

const mode = process.argv[2];
if (mode === 'driver') {
  const [keys, n] = [Number(process.argv[3]), Number(process.argv[4])];
  const driver = new TopologyTestDriver(hourly('bench-driver', 'in', 'out'), { wallClock: T0 + SPAN, partitions: 6 });
  const batch = 5000;
  const inputs = Array.from({ length: batch }, () => ({ key: '', value: undefined as unknown as Reading }));
  const start = performance.now();
  for (let i = 0; i < n; i += batch) {
    for (let j = 0; j < batch; j++) {
      const r = reading(i + j, n, keys);
      inputs[j] = { key: r.device_id, value: r };
    }
    driver.pipe(...inputs);
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ rate: n / seconds, rssMiB: process.resourceUsage().maxRSS / 1024, results: driver.output('out').length }));
} else if (mode === 'kafka') {
  const [kind, input, n] = [process.argv[3]!, process.argv[4]!, Number(process.argv[5])];
  const name = `${input.replace(/\.in$/, '')}-${kind}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  await drain(kind === 'aggregate' ? hourly(name, input, `${input}.agg`) : passthrough(name, input), n);
} else {
  const [kafkaN, driverN] = [Number(process.argv[2] ?? 500_000), Number(process.argv[3] ?? 1_000_000)];
  const self = import.meta.filename;
  for (const keys of [10_000, 100_000]) row(`test driver, ${keys / 1000}k keys, ${driverN} records`, inChild(self, 'driver', String(keys), String(driverN)));
  for (const keys of [10_000, 100_000]) {
    const input = `bench-win-${Date.now()}-${keys}.in`;
    await prefill(input, kafkaN, (i) => reading(i, kafkaN, keys), { [`${input}.copy`]: 'sensor-readings', [`${input}.agg`]: 'sensor-readings' });
    const results = Object.fromEntries(['passthrough', 'aggregate'].map((kind) => {
      const r = inChild(self, 'kafka', kind, input, String(kafkaN));
      row(`kafka ${kind}, ${keys / 1000}k keys, ${kafkaN} records`, r);
      return [kind, r];
    }));
    console.log(`ratio aggregate/pass-through, ${keys / 1000}k keys: ${(results.aggregate!.rate / results.passthrough!.rate).toFixed(2)} (target >= 0.80)`);
  }
}
