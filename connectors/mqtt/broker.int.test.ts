// The connector against a private Mosquitto running infra/mosquitto/mosquitto.prod.conf (only its
// ports and paths replaced): TLS with client certificates, passwords, the ACL, persistence and the
// queue that must not drop QoS 1 messages while the connector or the broker restarts.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { total, type Instance } from '../../core/runtime/testdata/harness.ts';
import { addUsers, makeCerts, startBroker, type Broker } from './testdata/broker.ts';
import { newIngestTest, publishAll, readWhere, startIngest, type Ingest } from './testdata/harness.ts';

jest.setTimeout(180_000);

const passwords = { ingest: 'ingest-secret-1', 'device-a': 'device-a-secret' };
let broker: Broker;
let url: string;
let certs: { ca: string; cert: string; key: string };
beforeAll(async () => {
  broker = await startBroker('mosquitto.prod.conf', (text, dir, port, wsPort) => text
    .replace(/^listener 8883$/m, `listener ${port} 127.0.0.1`)
    .replace(/^listener 8084$/m, `listener ${wsPort} 127.0.0.1\nsocket_domain ipv4`)
    .replaceAll('/etc/mosquitto/certs/', `${dir}/`)
    .replaceAll('/etc/mosquitto/passwd', join(dir, 'passwd'))
    .replaceAll('/etc/mosquitto/acl', join(dir, 'acl'))
    .replaceAll('/var/lib/mosquitto/', `${dir}/`), (dir) => {
    certs = makeCerts(dir);
    addUsers(join(dir, 'passwd'), passwords);
    copyFileSync(join(__dirname, '..', '..', 'infra', 'mosquitto', 'acl'), join(dir, 'acl'));
  });
  url = `mqtts://127.0.0.1:${broker.port}`;
});
afterAll(() => broker.stop());

const running: Instance[] = [];
afterEach(() => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
});
const tls = () => ({ ca: readFileSync(certs.ca), cert: readFileSync(certs.cert), key: readFileSync(certs.key) });
const device = () => ({ ...tls(), username: 'device-a', password: passwords['device-a'] });

async function connector(tag: string) {
  const t = await newIngestTest(tag, url);
  Object.assign(t.env, {
    MQTT_TOPIC_TEMPLATE: 'sensors/{device_id}/{sensor_type}', MQTT_USERNAME: 'ingest', MQTT_PASSWORD: passwords.ingest,
    MQTT_CA_FILE: certs.ca, MQTT_CERT_FILE: certs.cert, MQTT_KEY_FILE: certs.key,
  });
  const start = (label: string, env: Record<string, string> = {}): Ingest => {
    const inst = startIngest(t, label, env);
    running.push(inst);
    return inst;
  };
  return { t, start };
}
const values = async (t: Awaited<ReturnType<typeof newIngestTest>>, n: number) =>
  new Set((await readWhere(t.topic, () => true, n)).map((r) => t.serde.decode(r.value).value));

test('with a password, TLS and a client certificate the connector ingests; the ACL keeps a device to sensors/<its id>/; a wrong password stops it without showing the password', async () => {
  const { t, start } = await connector('tls');
  const inst = start('main');
  await inst.started();
  // One connection each: after a refused publish Mosquitto 2.0.11 stops acknowledging on that connection.
  const publishes = [['device-a', '21'], ['device-b', '99'], ['device-a', '22']]; // device-b: refused by the ACL
  for (const [id, payload] of publishes) await publishAll(url, device(), [{ topic: `sensors/${id}/temperature`, payload: payload! }]);
  expect(await values(t, 2)).toEqual(new Set([21, 22]));
  inst.child.kill('SIGTERM');
  expect(await inst.exited).toBe(0);
  expect(await total(t.topic)).toBe(2n);

  const wrong = start('wrong-password', { MQTT_PASSWORD: 'not-the-password-42' });
  expect(await wrong.exited).toBe(1);
  const log = readFileSync(wrong.log, 'utf8');
  expect(log).toMatch(/refused the connection/);
  expect(log).not.toContain('not-the-password-42');
});

test('over WebSockets with TLS a device with its certificate and password reaches the connector; without a certificate, or with a wrong password, it is refused', async () => {
  const { t, start } = await connector('wss');
  const inst = start('main');
  await inst.started();
  const wss = `wss://127.0.0.1:${broker.wsPort}`;
  expect(await publishAll(wss, device(), [{ topic: 'sensors/device-a/humidity', payload: '41.5' }])).toEqual([0]);
  expect(await values(t, 1)).toEqual(new Set([41.5]));
  const refused = (opts: mqtt.IClientOptions) => mqtt.connectAsync(wss, { clientId: `wss-${t.id}`, reconnectPeriod: 0, connectTimeout: 10_000, ...opts }).then(
    async (c) => { await c.endAsync(); return 'accepted'; },
    (err: Error) => err.message,
  );
  const { cert: _cert, key: _key, ...noCertificate } = device();
  expect(await refused(noCertificate)).toMatch(/certificate required/);
  expect(await refused({ ...device(), password: 'not-the-password-42' })).toMatch(/Not authorized/);
  expect(await refused({ ca: tls().ca })).toMatch(/certificate required/);
});

test('a QoS 1 burst published while the connector is down and the broker restarts all arrives; after a broker restart the connector reconnects by itself', async () => {
  const { t, start } = await connector('burst');
  const first = start('first');
  await first.started(); // creates the persistent session
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);

  const n = 5000; // more than Mosquitto's default max_queued_messages (1000)
  const burst = Array.from({ length: n }, (_, i) => ({ topic: `sensors/device-a/temperature`, payload: String(i) }));
  expect(await publishAll(url, device(), burst)).toHaveLength(n);
  await broker.stop();
  await broker.start();

  const second = start('second');
  await second.started();
  expect((await values(t, n)).size).toBe(n);

  await broker.stop();
  await broker.start();
  const more = Array.from({ length: 100 }, (_, i) => ({ topic: `sensors/device-a/temperature`, payload: String(n + i) }));
  expect(await publishAll(url, device(), more)).toHaveLength(100);
  expect((await values(t, n + 100)).size).toBe(n + 100);
  expect(readFileSync(second.log, 'utf8').match(/connected to the MQTT broker/g)).toHaveLength(2);
});
