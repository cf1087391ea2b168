import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import type { Service } from '../service.ts';
import { mqttPorts, mqttPortsFile, type MqttPorts } from '../settings.ts';
import { data, run } from '../paths.ts';
import { isAlive, startDetached } from '../proc.ts';
import { aptInstall, hasCommand } from './apt.ts';

// The stack always runs its own Mosquitto, from infra/mosquitto/mosquitto.conf: one that answers on
// 1883 (Debian's, with its default queue of 1000 messages) is never taken for it. Its ports are
// chosen once (settings.ts, mqttPorts) and it is recognised by its pid file and command line.

const template = new URL('../../mosquitto/mosquitto.conf', import.meta.url);
const dir = join(data, 'mosquitto');
const conf = join(dir, 'mosquitto.conf');
const pidFile = join(run, 'mosquitto.pid'); // the one startDetached writes

/** True when `pid` is a Mosquitto started from this stack's config file. */
function isOurs(pid: number): boolean {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return !existsSync('/proc') && isAlive(pid); // without /proc, the pid file is all there is
  }
  return basename(args[0] ?? '') === 'mosquitto' && args.includes(conf);
}

/** The pid of the stack's own Mosquitto if it runs: from the pid file, or else found by its command line. */
function ourPid(): number | undefined {
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (Number.isInteger(pid) && pid > 0 && isOurs(pid)) return pid;
  }
  if (!existsSync('/proc')) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || !isOurs(Number(entry))) continue;
    writeFileSync(pidFile, entry);
    return Number(entry);
  }
  return undefined;
}

const canListen = (port: number) => new Promise<boolean>((resolve) => {
  const srv = createServer();
  srv.once('error', () => resolve(false));
  srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
});

const urls = (p: MqttPorts) => ({ mqtt: `mqtt://127.0.0.1:${p.mqtt}`, ws: `ws://127.0.0.1:${p.ws}` });

export function renderConfig(text: string, p: MqttPorts, dataDir: string): string {
  return `${text.replaceAll('@MQTT_PORT@', String(p.mqtt)).replaceAll('@WS_PORT@', String(p.ws)).replaceAll('@DATA@', `${dataDir}/`)}
# As root, Mosquitto would switch to user mosquitto, which cannot write the persistence directory.
user ${userInfo().username}
`;
}

export const mosquitto: Service = {
  name: 'mosquitto',
  get endpoint() {
    const u = urls(mqttPorts());
    return `${u.mqtt} ${u.ws}`;
  },
  startTimeoutMs: 30_000,
  async probe() {
    if (ourPid() === undefined) throw new Error("the stack's own Mosquitto is not running");
    for (const url of Object.values(urls(mqttPorts()))) {
      const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 2000 });
      await client.endAsync();
    }
  },
  provision() {
    if (!hasCommand('mosquitto')) aptInstall('mosquitto');
  },
  async start() {
    const already = ourPid(); // another `up` started it in the meantime
    if (already !== undefined) return already;
    const p = mqttPorts();
    for (const [what, port] of [['MQTT', p.mqtt], ['WebSockets', p.ws]] as const) {
      if (!(await canListen(port))) {
        throw new Error(`port ${port}, chosen for the stack's Mosquitto (${what}) and kept in ${mqttPortsFile()}, is taken by another process: stop it, or delete that file to let bin/stack choose again (MQTT_BROKER changes then)`);
      }
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(conf, renderConfig(readFileSync(template, 'utf8'), p, dir));
    const bin = hasCommand('mosquitto') ? 'mosquitto' : '/usr/sbin/mosquitto';
    return startDetached('mosquitto', bin, ['-c', conf]);
  },
  /** SIGTERM (Mosquitto saves its persistence file), then SIGKILL after 30 s; only our own. */
  async stop() {
    const pid = ourPid();
    rmSync(pidFile, { force: true });
    if (pid === undefined) return false;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(200);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    return true;
  },
};
