// A private Mosquitto for tests that restart the broker or need auth and TLS: never the shared one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../core/runtime/testdata/harness.ts';

const infra = join(__dirname, '..', '..', '..', 'infra', 'mosquitto');

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  await new Promise((res) => srv.close(res));
  return port;
}

const listening = (port: number) => new Promise<boolean>((res) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); res(true); });
  s.once('error', () => res(false));
});

export interface Broker {
  port: number;
  /** A second free port, for a WebSockets listener if the config has one. */
  wsPort: number;
  dir: string;
  /** SIGTERM (Mosquitto saves its persistence file) and wait for the exit. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Starts Mosquitto from a config of infra/mosquitto with only its ports and paths replaced
 * (`rewrite` maps the text; `wsPort` is for a WebSockets listener). As root, Mosquitto would switch
 * to user mosquitto: it stays this user.
 */
export async function startBroker(file: string, rewrite: (text: string, dir: string, port: number, wsPort: number) => string, prepare: (dir: string) => void = () => undefined): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mosquitto-'));
  prepare(dir);
  const port = await freePort();
  let wsPort = await freePort();
  while (wsPort === port) wsPort = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const text = rewrite(readFileSync(join(infra, file), 'utf8'), dir, port, wsPort);
  writeFileSync(conf, `${text}\nuser ${userInfo().username}\n`);
  const ports = new RegExp(`^listener ${wsPort}\\b`, 'm').test(text) ? [port, wsPort] : [port];
  let child: ChildProcess | undefined;
  const broker: Broker = {
    port,
    wsPort,
    dir,
    async start() {
      child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      const log = createWriteStream(join(dir, 'mosquitto.log'), { flags: 'a' });
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
      for (const p of ports) await waitFor(`mosquitto on ${p} (log ${dir}/mosquitto.log)`, async () => ((await listening(p)) ? true : undefined), 15_000);
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((res) => c.once('exit', res));
      c.kill('SIGTERM');
      await exited;
    },
  };
  await broker.start();
  return broker;
}

/** The development config (infra/mosquitto/mosquitto.conf), as bin/stack would write it (MQTT on `port`, WebSockets on `wsPort`). */
export const devBroker = () => startBroker('mosquitto.conf', (text, dir, port, wsPort) =>
  text.replaceAll('@DATA@', `${dir}/`).replaceAll('@MQTT_PORT@', String(port)).replaceAll('@WS_PORT@', String(wsPort)));

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with the openssl CLI. */
export function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const ssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=sluice-test-ca');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'sluice-client']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), name === 'server' ? 'subjectAltName=IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
}

/** Adds users to a Mosquitto password file with mosquitto_passwd. */
export function addUsers(file: string, users: Record<string, string>): void {
  writeFileSync(file, '');
  for (const [user, password] of Object.entries(users)) {
    const r = spawnSync('mosquitto_passwd', ['-b', file, user, password], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr.toString()}`);
  }
}
