// The stack's own Mosquitto (bin/stack up, infra/mosquitto/mosquitto.conf): it is the broker that
// `bin/stack env` names, never one that merely answers on 1883; its queue does not drop QoS 1
// messages beyond Mosquitto's default of 1000; and a reading sent over its WebSockets listener goes
// through ingest and timescale-sink into sensor_data.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import { data, run } from './paths.ts';
import { mqttPorts } from './settings.ts';
import { createTopics, registerReadings, startInstance, waitFor, type Instance } from '../../core/runtime/testdata/harness.ts';
import { newIngestTest, publishAll, startIngest } from '../../connectors/mqtt/testdata/harness.ts';
import { createTestDb, withClient } from '../../sinks/timescale/testdata/db.ts';

jest.setTimeout(180_000);

const broker = process.env.MQTT_BROKER!;
const wsUrl = process.env.MQTT_WS_URL!;
const unique = (tag: string) => `mosq-${tag}-${Date.now()}-${randomBytes(3).toString('hex')}`;

const running: Instance[] = [];
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Inodes of the sockets listening on `port` (any address), from /proc/net/tcp and tcp6. */
function listenerInodes(port: number): string[] {
  const inodes: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && Number.parseInt(f[1]!.split(':').at(-1)!, 16) === port) inodes.push(f[9]!);
    }
  }
  return inodes;
}

test("MQTT_BROKER and MQTT_WS_URL are the stack's own Mosquitto, started from its config, on the ports it keeps", () => {
  const ports = mqttPorts();
  expect(broker).toBe(`mqtt://127.0.0.1:${ports.mqtt}`);
  expect(wsUrl).toBe(`ws://127.0.0.1:${ports.ws}`);
  const pid = Number(readFileSync(join(run, 'mosquitto.pid'), 'utf8'));
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain(join(data, 'mosquitto', 'mosquitto.conf'));
  // Both listening sockets belong to that process, whatever else runs a Mosquitto on this machine.
  const fds = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  }));
  for (const port of [ports.mqtt, ports.ws]) {
    const inodes = listenerInodes(port);
    expect(inodes.length).toBeGreaterThan(0);
    for (const inode of inodes) expect({ port, owned: fds.has(`socket:[${inode}]`) }).toEqual({ port, owned: true });
  }
});

test('3000 QoS 1 messages queued for an offline persistent subscriber all arrive when it comes back (Mosquitto\'s default keeps 1000)', async () => {
  const id = unique('queue');
  const topic = `sluice-test/${id}/temperature`;
  const session: IClientOptions = { clientId: `${id}-sub`, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 0 };
  const first = await mqtt.connectAsync(broker, session);
  await first.subscribeAsync(topic, { qos: 1 });
  await first.endAsync();

  const n = 3000;
  const messages = Array.from({ length: n }, (_, i) => ({ topic, payload: String(i) }));
  expect(await publishAll(broker, {}, messages)).toHaveLength(n);

  // The handler is in place before the CONNACK: the queued messages follow it at once.
  const back = mqtt.connect(broker, session);
  cleanups.push(() => back.endAsync());
  const received = new Set<string>();
  const qos = new Set<number>();
  let sessionPresent: boolean | undefined;
  back.on('connect', (connack) => { sessionPresent = connack.sessionPresent; });
  back.on('message', (_t, payload, packet) => {
    received.add(payload.toString());
    qos.add(packet.qos);
  });
  await waitFor(`${n} queued messages`, async () => (received.size >= n ? true : undefined), 60_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${received.size} arrived`);
  });
  expect(sessionPresent).toBe(true);
  expect(received).toEqual(new Set(messages.map((m) => m.payload)));
  expect(qos).toEqual(new Set([1]));
});

test('a QoS 1 reading published over WebSockets reaches sensor_data through bin/run-topology ingest and timescale-sink', async () => {
  const t = await newIngestTest('ws', broker);
  const input = `${t.id}.in`; // the topic the sink's test topologies read
  await createTopics([input], 3);
  await registerReadings(input);
  const db = await createTestDb();
  cleanups.push(() => db.drop());

  const ingest = startIngest(t, 'ingest', { INGEST_TOPIC: input });
  running.push(ingest);
  const sinkTopologies = join(__dirname, '..', '..', 'sinks', 'timescale', 'testdata', 'topologies.ts');
  running.push(startInstance(`${t.id}-tsdb`, t.id, 'sink', { TIMESCALE_URL: db.writerUrl, SLUICE_PARTITIONS: '3' }, sinkTopologies));
  await ingest.started();

  const time = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const device = await mqtt.connectAsync(wsUrl, { clientId: `${t.id}-device`, reconnectPeriod: 0 });
  try {
    // Resolves on the broker's PUBACK.
    await device.publishAsync(`${t.prefix}/device-ws-1/temperature`, JSON.stringify({ value: 23.25, time: time.toISOString() }), { qos: 1 });
  } finally {
    await device.endAsync();
  }

  const row = await waitFor('the reading in sensor_data', () => withClient(db.url, async (c) =>
    (await c.query('SELECT device_id, sensor_type, value, unit, time FROM sensor_data')).rows[0] as Record<string, unknown> | undefined), 120_000);
  expect(row).toEqual({ device_id: 'device-ws-1', sensor_type: 'temperature', value: 23.25, unit: '°C', time });
});
