import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { RegistryClient } from '../serde/registry.ts';
import { readSchema } from '../serde/avro.ts';
import { valueSubject } from '../naming.ts';
import { kafka, registerReadings, registryUrl } from './testdata/harness.ts';

jest.setTimeout(60_000);

const root = join(__dirname, '..', '..');
const id = `chk-${Date.now()}-${randomBytes(2).toString('hex')}`;
const modules = join(__dirname, 'testdata', 'check-topologies.ts');

function runTopology(args: string[], env: Record<string, string> = {}, topologies = ['--topologies', modules]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(join(root, 'bin', 'run-topology'), [...args, ...topologies], {
    env: { ...process.env, SLUICE_TEST_ID: id, SLUICE_LOG_LEVEL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr })));
}

async function topics(): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(id));
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  await registerReadings(`${id}.in`);
  await new RegistryClient(registryUrl).register(valueSubject(`${id}.alerts`), readSchema('alerts'));
});

test('--check asks every dependency, prints the plan and the settings with secrets masked, and creates no topic', async () => {
  const secret = process.env.S3_SECRET_ACCESS_KEY ?? 'not-the-real-one';
  const alerting = await runTopology([`${id}-alerting`, '--check'], { S3_SECRET_ACCESS_KEY: secret, ALERT_THRESHOLD: '40' });
  expect([alerting.code, alerting.stderr]).toEqual([0, '']);
  expect(alerting.stdout).toContain(`  source: ${id}.in (Avro sensor-readings, subject ${id}.in-value)`);
  expect(alerting.stdout).toContain(`  sinks: topic (Kafka ${id}.alerts), table`);
  expect(alerting.stdout).toContain(`  state stores: alerts (changelog ${id}-alerting-alerts-changelog)`);
  expect(alerting.stdout).toContain('  SLUICE_OPS_PORT=9466 (default)');
  expect(alerting.stdout).toContain('  ALERT_THRESHOLD=40\n');
  expect(alerting.stdout).toMatch(/dependencies:\n {2}kafka: ok\n {2}schema-registry: ok\n {2}sink:topic: ok\n {2}sink:table: ok\n$/);

  const archiver = await runTopology([`${id}-archiver`, '--check'], { S3_SECRET_ACCESS_KEY: secret });
  expect([archiver.code, archiver.stderr]).toEqual([0, '']);
  expect(archiver.stdout).toContain('  S3_SECRET_ACCESS_KEY=***\n');
  expect(archiver.stdout).not.toContain(secret);
  expect(archiver.stdout).toContain('  sink:archive: ok');
  expect(await topics()).toEqual([]);
});

test('--check of ingest connects to MQTT too, under a client id of its own', async () => {
  const r = await runTopology(['ingest', '--check'], { INGEST_TOPIC: `${id}.in` }, []);
  expect([r.code, r.stderr]).toEqual([0, '']);
  expect(r.stdout).toMatch(/ {2}kafka: ok\n {2}schema-registry: ok\n {2}mqtt: ok\n$/);
});

test('--check with Kafka unreachable gives up in bounded time: exit 1, one line for Kafka and for the sink that needs it', async () => {
  const started = Date.now();
  const r = await runTopology([`${id}-alerting`, '--check'], { KAFKA_BROKERS: '127.0.0.1:1', SLUICE_STARTUP_TIMEOUT_MS: '2000' });
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(r.code).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^kafka: gave up waiting for Kafka at 127\.0\.0\.1:1 after 2000 ms/);
  expect(lines[1]).toMatch(/^sink:topic: Kafka did not answer/);
  expect(r.stdout).toContain('  kafka: FAILED\n');
  expect(r.stdout).toContain('  sink:table: ok\n');
});

describe('an ops port already taken', () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((res) => taken.listen(0, '0.0.0.0', res));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => taken.close());

  test('stops the process before it connects: exit 1, one line naming SLUICE_OPS_PORT, no stack trace', async () => {
    const r = await runTopology([`${id}-archiver`], { SLUICE_OPS_PORT: String(port) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`bin/run-topology ${id}-archiver: port ${port} is in use (SLUICE_OPS_PORT): listen EADDRINUSE: address already in use 0.0.0.0:${port}\n`);
    expect(r.stdout).toBe('');
    expect(await topics()).toEqual([]);
  });
});
