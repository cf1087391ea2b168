// bin/simulate-devices against a private Mosquitto that is restarted while it publishes: it keeps
// going, and every message it logged as sent got exactly one PUBACK and reached a subscriber.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { waitFor } from '../../core/runtime/testdata/harness.ts';
import { devBroker, type Broker } from './testdata/broker.ts';
import { readSimLog, type SimLogLine } from './simlog.ts';
import { HUGE_PAYLOAD_BYTES } from './simulate.ts';

jest.setTimeout(120_000);

let broker: Broker;
let child: ChildProcess | undefined;
let sub: MqttClient | undefined;
beforeAll(async () => {
  broker = await devBroker();
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await sub?.endAsync(true);
  await broker.stop();
});

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SimLogLine);

test('through a broker restart the simulator keeps publishing; each logged message gets one PUBACK and reaches a subscriber; SIGTERM ends it with its summary', async () => {
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const prefix = `sim-${process.pid}`;
  const log = join(mkdtempSync(join(tmpdir(), 'sluice-sim-')), 'sim.jsonl');
  // A persistent session: what the broker took while this subscriber was away is queued for it, across the restart too.
  const received = new Set<string>();
  const subscriber = (sub = await mqtt.connectAsync(url, { clientId: `sim-test-${process.pid}`, clean: false, reconnectPeriod: 500 }));
  subscriber.on('error', () => undefined);
  subscriber.on('message', (_, payload) => received.add(sha256(payload)));
  await subscriber.subscribeAsync(`${prefix}/#`, { qos: 1 });

  // 20 s at 300/s; the 16 bad messages come every 1.25 s, so the first 8 (every kind, the 1 MiB one last) fall in the first 10 s.
  const args = ['--broker', url, '--prefix', prefix, '--devices', '4', '--sensors', 'temperature,humidity', '--format', 'mixed',
    '--rate', '300', '--count', '6000', '--episodes', '2', '--episode-gap-ms', '1000', '--bad', '16', '--log', log];
  const proc = spawn(join(__dirname, '..', '..', 'bin', 'simulate-devices'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  const lastSent = () => (existsSync(log) ? Math.max(0, ...readSimLog(log).sent.keys()) : 0);

  await waitFor('1000 messages sent', async () => (lastSent() >= 1000 ? true : undefined), 30_000);
  await broker.stop();
  const atRestart = lastSent();
  await sleep(1500); // the outage: the simulator goes on publishing into mqtt.js's store
  const during = readSimLog(log);
  // Messages without a PUBACK when the broker comes back: mqtt.js must send them again.
  expect(during.sent.size - during.acked.size).toBeGreaterThan(100);
  await broker.start();
  // Well after the restart, and past the first 8 bad messages.
  const later = Math.max(atRestart + 900, 3000);
  await waitFor(`PUBACKs for messages after ${later}`, async () => ([...readSimLog(log).acked].some((s) => s > later) ? true : undefined), 30_000);
  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(stderr).toBe('');
  expect(stdout).toMatch(new RegExp(`^sent (\\d+) messages .*PUBACKs \\1; .*bad messages \\d+; reconnects [1-9]\\d*; log ${log}\\n$`));

  const all = lines(log);
  const { sent, acked } = readSimLog(log);
  const ackLines = new Map<number, number>();
  for (const l of all) if (l.e === 'acked') ackLines.set(l.seq, (ackLines.get(l.seq) ?? 0) + 1);
  expect(sent.size).toBeGreaterThan(later);
  expect([...sent.keys()]).toEqual(Array.from({ length: sent.size }, (_, i) => i + 1));
  expect([...ackLines].filter(([seq, n]) => n !== 1 || !sent.has(seq))).toEqual([]);
  expect(acked.size).toBe(sent.size);

  const bad = [...sent.values()].filter((l) => l.kind === 'bad');
  expect(bad.map((l) => l.reason).slice(0, 8)).toEqual(['not-a-number', 'not-a-number', 'wrong-type', 'topic-mismatch', 'too-large', 'time-in-future', 'time-too-old', 'too-large']);
  expect(bad[7]).toMatchObject({ bytes: HUGE_PAYLOAD_BYTES });
  expect(bad[7]).not.toHaveProperty('payload');
  const episode1 = [...sent.values()].filter((l) => l.kind === 'reading' && l.episode === 1);
  expect(episode1.map((l) => l.kind === 'reading' && l.value > 35)).toEqual([true, true, true]);

  const digests = [...sent.values()].map((l) => l.sha256 ?? sha256(l.payload!));
  await waitFor('every message at the subscriber', async () => (digests.every((d) => received.has(d)) ? true : undefined), 30_000);
});
