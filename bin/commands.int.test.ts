import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sensorData } from '../sinks/archive/testdata/sensor-data.ts';

// Every bin/ command: --help is usage on stdout and exit 0; a wrong command line is one line on stderr
// and exit 2; a failure is one line with its cause on stderr and exit 1. Never a stack trace, never a secret.
const bin = __dirname;
const stackTrace = /\n\s+at /;
const closed = '127.0.0.1:1';
const secret = 'not-for-your-eyes-7f3a9c';

// A schema registry that refuses every request: a failure that no waiting mends (one that does not
// answer is waited for 60 s by RegistryClient, see the report of core/serde/register-command.ts).
let refusing: Server;
let refusingUrl: string;
beforeAll(async () => {
  refusing = createServer((_, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error_code":401,"message":"Unauthorized"}'));
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => refusing.close(() => resolve())));

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { SLUICE_LOG_LEVEL: _, ...inherited } = process.env;
    const child = spawn(join(bin, command), args, { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const commands = ['archive-verify', 'register-schemas', 'replay', 'retention', 'simulate-devices', 'timescale-schema', 'setup', 'stack', 'quickstart', 'test'];

test.concurrent.each(commands)('bin/%s --help prints the usage on stdout and exits 0', async (command) => {
  const r = await run(command, ['--help']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/^usage: /);
});

// bin/test passes its arguments to jest; the scripts that start things (setup, stack, quickstart) refuse before doing anything.
test.concurrent.each(commands.filter((c) => c !== 'test'))('bin/%s --bogus says so in one line on stderr and exits 2', async (command) => {
  const r = await run(command, ['--bogus']);
  expect(r).toMatchObject({ code: 2, stdout: '' });
  expect(r.stderr).toBe(`bin/${command}: ${command === 'setup' || command === 'quickstart' ? 'unexpected argument "--bogus"' : "Unknown option '--bogus'"}; see bin/${command} --help\n`);
});

test.concurrent.each([
  ['replay', ['alerting', '--from'], "Option '--from <value>' argument missing"],
  ['replay', ['alerting', '--last', '5x'], '--last must be a positive duration'],
  ['replay', ['no-such-topology', '--last', '1h'], 'unknown topology "no-such-topology"; valid ones: ingest, '],
  ['archive-verify', ['--from', 'yesterday'], '--from must be an ISO 8601 time with a timezone'],
  ['archive-verify', ['extra'], "Unexpected argument 'extra'"],
  ['timescale-schema', ['--roles', 'writer-only'], '--roles takes <writer>,<reader>, got "writer-only"'],
  ['simulate-devices', ['--rate', '0'], '--rate must be a number from 0.1 to 10000000, got "0"'],
  ['simulate-devices', ['--qos', '2'], '--qos must be 0 or 1, got "2"'],
  ['stack', ['restart'], 'unknown command "restart"'],
])('bin/%s %j is refused with exit 2', async (command, args, why) => {
  const r = await run(command, args);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(why);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(stackTrace);
});

test.concurrent.each([
  ['retention', [], { S3_ENDPOINT: `http://${closed}`, S3_SECRET_ACCESS_KEY: secret }, `cannot read the archive manifests under s3://${process.env.S3_BUCKET}/sensor_readings/_manifests/: connect ECONNREFUSED ${closed}`],
  ['retention', ['--force'], { TIMESCALE_URL: `postgres://sluice:${secret}@${closed}/sluice` }, `cannot connect to TIMESCALE_URL: connect ECONNREFUSED ${closed}`],
  ['timescale-schema', [], { TIMESCALE_URL: `postgres://sluice:${secret}@${closed}/sluice` }, `cannot connect to TIMESCALE_URL: connect ECONNREFUSED ${closed}`],
  ['simulate-devices', ['--count', '1'], { MQTT_BROKER: `mqtt://sim:${secret}@${closed}` }, `cannot publish to mqtt://sim:***@${closed}: connect ECONNREFUSED ${closed}`],
  ['replay', ['alerting', '--last', '1h'], { KAFKA_BROKERS: closed, SLUICE_STARTUP_TIMEOUT_MS: '1000' },
    `gave up waiting for Kafka at ${closed} after 1000 ms (SLUICE_STARTUP_TIMEOUT_MS); last error: Connection error: connect ECONNREFUSED ${closed}`],
])('bin/%s %j with %j fails in one line on stderr, exit 1', async (command, args, env, why) => {
  const r = await run(command, args, env);
  expect(r.code).toBe(1);
  const first = `bin/${command}: ${why}`;
  expect(r.stderr.slice(0, first.length)).toBe(first); // as a string: a failure shows what came instead
  expect(r.stderr.trimEnd().split('\n')).toEqual([r.stderr.trimEnd()]);
  expect(r.stderr).not.toContain(secret);
}, 30_000);

test('bin/archive-verify with an object store that refuses connections fails in one line on stderr, exit 1', async () => {
  const table = await sensorData([]); // a sensor_data that answers: the archive is what fails
  try {
    const r = await run('archive-verify', [], { S3_ENDPOINT: `http://${closed}`, TIMESCALE_URL: table.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`bin/archive-verify: cannot read the archive: connect ECONNREFUSED ${closed}\n`);
  } finally {
    await table.drop();
  }
}, 30_000);

test('bin/register-schemas against a registry that refuses it fails in one line on stderr, exit 1', async () => {
  const r = await run('register-schemas', ['--dry-run'], { SCHEMA_REGISTRY_URL: refusingUrl });
  expect(r).toMatchObject({ code: 1, stderr: 'bin/register-schemas: POST /subjects/alerts-value answered 401: Unauthorized\n' });
});

test('SLUICE_LOG_LEVEL=debug adds the stack trace to the line, still without secrets', async () => {
  const r = await run('retention', ['--force'], { TIMESCALE_URL: `postgres://sluice:${secret}@${closed}/sluice`, SLUICE_LOG_LEVEL: 'debug' });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^bin\/retention: cannot connect to TIMESCALE_URL: connect ECONNREFUSED 127\.0\.0\.1:1\n/);
  expect(r.stderr).toMatch(stackTrace);
  expect(r.stderr).not.toContain(secret);
});
