import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mqttPorts, pickMqttPorts, ports } from './settings.ts';

test('the preferred ports when free, else the next free ones, never a port of another service', () => {
  expect(pickMqttPorts(new Set())).toEqual({ mqtt: 1883, ws: 9001 });
  expect(pickMqttPorts(new Set([1883]))).toEqual({ mqtt: 1884, ws: 9001 });
  expect(pickMqttPorts(new Set([1883, 1884, 9001, 9002]))).toEqual({ mqtt: 1885, ws: 9003 });
  const busy = new Set(Array.from({ length: 91 }, (_, i) => 9001 + i)); // 9001-9091
  expect(pickMqttPorts(busy).ws).toBe(ports.kafkaController + 1); // 9092 and 9093 are Kafka's
  expect(() => pickMqttPorts(new Set(Array.from({ length: 100 }, (_, i) => 1883 + i)))).toThrow(/no free port/);
});

test('chosen once, then kept: the next call reads the file whatever is free by then', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'sluice-ports-')), 'mosquitto', 'ports.json');
  expect(mqttPorts(file, () => new Set([1883]))).toEqual({ mqtt: 1884, ws: 9001 });
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ mqtt: 1884, ws: 9001 });
  expect(mqttPorts(file, () => new Set())).toEqual({ mqtt: 1884, ws: 9001 });
  writeFileSync(file, '{"mqtt": 1884}');
  expect(() => mqttPorts(file)).toThrow(/delete it to let bin\/stack choose again/);
});
