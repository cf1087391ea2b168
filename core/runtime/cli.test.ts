import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { settingsLines } from '../config.ts';
import { runtimeSchema } from './runtime-settings.ts';
import { configure, entryDefaults, loadEntries, runTopologyCommand, type TopologyEntry } from './cli.ts';

const root = join(__dirname, '..', '..');
const shipped = join(root, 'topologies', 'index.ts');
/** Syntactically valid settings for services that are not there: nothing here connects. */
const offline = {
  KAFKA_BROKERS: '127.0.0.1:1', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1', TIMESCALE_URL: 'postgres://sluice@127.0.0.1:1/sluice',
  MQTT_BROKER: 'mqtt://127.0.0.1:1', S3_BUCKET: 'sluice', SLUICE_LOG_LEVEL: 'silent',
};
const badAlerting = { ALERT_THRESHOLD: 'abc', ALERT_BOUNDS: '{bad' };

function captured(run: () => Promise<number>) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  const error = jest.spyOn(console, 'error').mockImplementation((s: string) => void err.push(s));
  return run().then((code) => ({ code, out: out.join('\n'), err: err.join('\n') })).finally(() => {
    log.mockRestore();
    error.mockRestore();
  });
}

/** `bin/run-topology` in a process of its own, with only `env` (and PATH, HOME). */
const runBin = (args: string[], env: Record<string, string>) => spawnSync(join(root, 'bin', 'run-topology'), args, {
  env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env }, encoding: 'utf8', timeout: 60_000,
});

test('each shipped process has its own ops port, and the listing shows them', async () => {
  const entries = await loadEntries(shipped);
  expect(Object.fromEntries(entries.map((e) => [e.name, e.opsPort]))).toEqual({
    ingest: 9464, 'timescale-sink': 9465, alerting: 9466, 'hourly-aggregates': 9467, archiver: 9468,
  });
  expect(entryDefaults(entries.find((e) => e.name === 'archiver')!)).toEqual({ SLUICE_OPS_PORT: '9468' });
  const { code, out } = await captured(() => runTopologyCommand({ topologies: shipped }, {}));
  expect(code).toBe(0);
  expect(out).toMatch(/^ {2}timescale-sink +9465 {2}loads sensor-readings/m);
});

test('the listing reads no topology settings: a broken ALERT_BOUNDS still lists them all', async () => {
  const { code, out } = await captured(() => runTopologyCommand({ topologies: shipped }, { ALERT_BOUNDS: '{bad' }));
  expect(code).toBe(0);
  for (const name of ['ingest', 'timescale-sink', 'alerting', 'hourly-aggregates', 'archiver']) expect(out).toContain(`  ${name} `);
});

test('a bad ALERT_THRESHOLD stops alerting at start with exit 2 and one line, before connecting to anything', async () => {
  const { code, out, err } = await captured(() => runTopologyCommand({ name: 'alerting', topologies: shipped }, { ...offline, ALERT_THRESHOLD: 'abc' }));
  expect({ code, out, err }).toEqual({ code: 2, out: '', err: 'bin/run-topology alerting: ALERT_THRESHOLD: expected a number, got "abc"' });
});

test('the other topologies do not read ALERT_*: their settings check out with broken ones', async () => {
  const entries = await loadEntries(shipped);
  for (const entry of entries.filter((e): e is TopologyEntry => 'configure' in e && e.name !== 'alerting')) {
    const env = { ...offline, ...badAlerting, ...entryDefaults(entry) };
    expect(() => settingsLines([runtimeSchema, ...entry.settings!], env)).not.toThrow();
    expect(configure(entry, env).name).toBe(entry.name);
  }
});

test('bin/run-topology: bad settings are exit 2 and one line on stderr, without a stack trace', () => {
  const r = runBin(['alerting'], { ...offline, ALERT_THRESHOLD: 'abc' });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('bin/run-topology alerting: ALERT_THRESHOLD: expected a number, got "abc"\n');
  expect(r.stderr).not.toMatch(/\n\s+at /);
  const check = runBin(['alerting', '--check'], { ...offline, ALERT_BOUNDS: '{bad' });
  expect([check.status, check.stderr]).toEqual([2, 'bin/run-topology alerting --check: ALERT_BOUNDS: expected JSON, got "{bad"\n']);
});

describe('a taken ops port', () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((res) => taken.listen(0, '0.0.0.0', res));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => taken.close());

  test('is exit 1 and one line naming SLUICE_OPS_PORT, at once', () => {
    const r = runBin(['timescale-sink'], { ...offline, ...badAlerting, SLUICE_OPS_PORT: String(port) });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`bin/run-topology timescale-sink: port ${port} is in use (SLUICE_OPS_PORT): listen EADDRINUSE: address already in use 0.0.0.0:${port}\n`);
  });
});

test('<name> --help lists the settings the topology reads beyond the runtime\'s, from their declarations', async () => {
  const { code, out } = await captured(() => runTopologyCommand({ name: 'alerting', help: true, topologies: shipped }, {}));
  expect(code).toBe(0);
  expect(out).toMatch(/^bin\/run-topology alerting: /);
  expect(out).toMatch(/ALERT_THRESHOLD \(35\) number\n +Temperature above this/);
  expect(out).toMatch(/TIMESCALE_URL \(required\) URL/);
  expect(out).not.toMatch(/SLUICE_PARTITIONS/);
  const all = await captured(() => runTopologyCommand({ help: true, topologies: shipped }, {}));
  expect(all.out).toMatch(/SLUICE_PARTITIONS \(6\) 1–10,000\n +Partitions of topics Sluice creates/);
});
