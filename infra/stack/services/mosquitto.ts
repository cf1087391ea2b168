import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Service } from '../service.ts';
import { ports } from '../settings.ts';
import { data } from '../paths.ts';
import { startDetached, stopStarted } from '../proc.ts';
import { aptInstall, hasCommand } from './apt.ts';

const template = new URL('../../mosquitto/mosquitto.conf', import.meta.url);

export const mosquitto: Service = {
  name: 'mosquitto',
  endpoint: `mqtt://127.0.0.1:${ports.mqtt}`,
  startTimeoutMs: 30_000,
  async probe() {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { reconnectPeriod: 0, connectTimeout: 2000 });
    await client.endAsync();
  },
  provision() {
    if (!hasCommand('mosquitto')) aptInstall('mosquitto');
  },
  async start() {
    const dir = join(data, 'mosquitto');
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, readFileSync(template, 'utf8').replace('@DATA@', `${dir}/`));
    const bin = hasCommand('mosquitto') ? 'mosquitto' : '/usr/sbin/mosquitto';
    return startDetached('mosquitto', bin, ['-c', conf]);
  },
  stop: () => stopStarted('mosquitto'),
};
