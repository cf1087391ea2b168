import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { DLQ_TOPIC } from '../../core/naming.ts';
import { DLQ_HEADERS } from '../../core/runtime/dlq.ts';
import { total, waitFor, type Instance } from '../../core/runtime/testdata/harness.ts';
import { Kafka, logLevel } from 'kafkajs';
import { devBroker, type Broker } from './testdata/broker.ts';
import { startPrivateKafka } from './testdata/kafka.ts';
import { metric, newIngestTest, publishAll, readWhere, sharedBroker, startIngest, type Ingest } from './testdata/harness.ts';

jest.setTimeout(180_000);

const running: Instance[] = [];
const brokers: Broker[] = [];
afterEach(async () => {
  for (const i of running.splice(0)) i.child.kill('SIGKILL');
  for (const b of brokers.splice(0)) await b.stop();
});
const start = (...args: Parameters<typeof startIngest>): Ingest => {
  const inst = startIngest(...args);
  running.push(inst);
  return inst;
};
const stop = async (inst: Instance, signal: NodeJS.Signals = 'SIGTERM') => {
  inst.child.kill(signal);
  const code = await inst.exited;
  running.splice(running.indexOf(inst), 1);
  return code;
};

test('readings reach Kafka as Avro with MQTT headers; every kind of bad input reaches sluice.dlq, counted and acknowledged', async () => {
  const t = await newIngestTest('input');
  // The filter takes every level under the prefix, so that topics not fitting the template arrive too.
  const inst = start(t, 'main', { MQTT_TOPIC_FILTER: `${t.prefix}/#`, INGEST_MAX_PAYLOAD_BYTES: '64' });
  const port = await inst.started();
  const p = t.prefix;
  const good = [
    { topic: `${p}/device-001/temperature`, payload: '22.5' },
    { topic: `${p}/device-002/humidity`, payload: '{"value": 41.5, "time": "2026-01-02T03:04:05Z"}' },
  ];
  const bad: [string, { topic: string; payload: string | Buffer }][] = [
    ['not-a-number', { topic: `${p}/d1/temperature`, payload: 'warm' }],
    ['non-finite', { topic: `${p}/d1/temperature`, payload: 'NaN' }],
    ['empty', { topic: `${p}/d1/temperature`, payload: '' }],
    ['too-large', { topic: `${p}/d1/temperature`, payload: '1'.repeat(65) }],
    ['invalid-utf8', { topic: `${p}/d1/temperature`, payload: Buffer.from([0x31, 0xff]) }],
    ['wrong-type', { topic: `${p}/d1/temperature`, payload: '{"value": "22"}' }],
    ['forbidden-key', { topic: `${p}/d1/temperature`, payload: '{"value": 1, "__proto__": {"x": 1}}' }],
    ['topic-mismatch', { topic: `${p}/temp`, payload: '22.5' }],
    ['bad-device-id', { topic: `${p}/${'d'.repeat(65)}/temperature`, payload: '22.5' }],
    ['time-in-future', { topic: `${p}/d1/temperature`, payload: `{"value": 1, "time": ${Date.now() + 3_600_000}}` }],
    ['time-too-old', { topic: `${p}/d1/temperature`, payload: '{"value": 1, "time": "1999-01-01T00:00:00Z"}' }],
  ];
  const messages = [...good, ...bad.map(([, m]) => m)];
  expect(await publishAll(sharedBroker, {}, messages, 1)).toHaveLength(messages.length);

  const readings = await readWhere(t.topic, () => true, good.length);
  const byKey = new Map(readings.map((r) => [r.key, r]));
  expect(t.serde.decode(byKey.get('device-001')!.value)).toMatchObject({ device_id: 'device-001', sensor_type: 'temperature', value: 22.5, unit: '°C' });
  expect(t.serde.decode(byKey.get('device-002')!.value)).toMatchObject({ value: 41.5, unit: '%', time: Date.UTC(2026, 0, 2, 3, 4, 5) });
  expect(byKey.get('device-001')!.headers).toMatchObject({ 'mqtt.topic': good[0]!.topic, 'mqtt.qos': '1', 'mqtt.retain': 'false', 'mqtt.dup': 'false' });

  const dead = await readWhere(DLQ_TOPIC, (r) => r.headers[DLQ_HEADERS.topology] === 'ingest' && r.headers[DLQ_HEADERS.topic]!.startsWith(`${p}/`), bad.length);
  for (const [reason, m] of bad) {
    const found = dead.find((r) => r.headers[DLQ_HEADERS.reason] === reason);
    expect({ reason, topic: found?.headers[DLQ_HEADERS.topic], payload: found?.value?.toString('hex') })
      .toEqual({ reason, topic: m.topic, payload: Buffer.from(m.payload).toString('hex') });
    expect(found!.headers[DLQ_HEADERS.error]!.length).toBeGreaterThan(0);
    expect(await metric(port, 'sluice_dlq_records_total', `reason="${reason}"`)).toBe(1);
  }
  // Every message was acknowledged to the broker: none loops back.
  await waitFor('no unacknowledged messages', async () => ((await metric(port, 'sluice_mqtt_unacked')) === 0 ? true : undefined));
  expect(await stop(inst)).toBe(0);
  expect(await total(t.topic)).toBe(BigInt(good.length));
});

test('with the default subscription, the seed\'s message to a topic outside the template reaches sluice.dlq as topic-mismatch', async () => {
  const t = await newIngestTest('seed');
  const inst = start(t, 'main');
  const port = await inst.started();
  // The seed's step 3 (mosquitto_pub -t sensors/temp -m "25.5"), under this test's prefix instead of `sensors`.
  expect(await publishAll(sharedBroker, {}, [{ topic: `${t.prefix}/temp`, payload: '25.5' }])).toHaveLength(1);
  const [dead] = await readWhere(DLQ_TOPIC, (r) => r.headers[DLQ_HEADERS.topic] === `${t.prefix}/temp`, 1);
  expect(dead!.headers[DLQ_HEADERS.reason]).toBe('topic-mismatch');
  expect(dead!.value!.toString()).toBe('25.5');
  expect(await metric(port, 'sluice_dlq_records_total', 'reason="topic-mismatch"')).toBe(1);
  expect(readFileSync(inst.log, 'utf8')).toContain('topic-mismatch');
  expect(await stop(inst)).toBe(0);
});

test('a payload larger than Kafka takes goes to sluice.dlq cut, with its size and digest, and does not hold up what comes after', async () => {
  const t = await newIngestTest('oversize');
  const inst = start(t, 'main');
  const port = await inst.started();
  const huge = Buffer.alloc(2 << 20, '7'); // 2 MiB: Kafka's default limit is 1 MiB
  const messages = [{ topic: `${t.prefix}/d1/temperature`, payload: huge }, { topic: `${t.prefix}/d1/temperature`, payload: '21.5' }];
  expect(await publishAll(sharedBroker, {}, messages, 1)).toHaveLength(2);
  const [reading] = await readWhere(t.topic, () => true, 1);
  expect(t.serde.decode(reading!.value).value).toBe(21.5);
  const [dead] = await readWhere(DLQ_TOPIC, (r) => r.headers[DLQ_HEADERS.topic] === `${t.prefix}/d1/temperature`, 1);
  expect(dead!.headers[DLQ_HEADERS.reason]).toBe('too-large');
  expect(dead!.headers['sluice.payload.bytes']).toBe(String(huge.length));
  expect(dead!.headers['sluice.payload.sha256']).toBe(createHash('sha256').update(huge).digest('hex'));
  expect(dead!.value!.length).toBe(64 * 1024);
  await waitFor('both acknowledged', async () => ((await metric(port, 'sluice_mqtt_unacked')) === 0 ? true : undefined));
  expect(await stop(inst)).toBe(0);
});

test('killed with SIGKILL after receiving and before Kafka acknowledged, then restarted: every message the broker acknowledged is in Kafka', async () => {
  // A private broker with the development config: the shared one may run Mosquitto's defaults,
  // whose queue of 1000 messages would drop part of the burst while the connector is down.
  const broker = await devBroker();
  brokers.push(broker);
  const t = await newIngestTest('kill', `mqtt://127.0.0.1:${broker.port}`);
  const n = 3000;
  const messages = Array.from({ length: n }, (_, i) => ({ topic: `${t.prefix}/dev-${i % 20}/temperature`, payload: String(i) }));
  // A first run creates the persistent session, so that the broker queues what comes while the connector is down.
  const first = start(t, 'first', { SLUICE_FAULT: 'ingest.before-kafka-ack:3', INGEST_BATCH_MAX: '100' });
  await first.started();
  const acked = await publishAll(t.env.MQTT_BROKER!, {}, messages);
  expect(await first.exited).toBe(null); // SIGKILLed by the fault point
  running.splice(running.indexOf(first), 1);
  const before = await total(t.topic);
  expect(before).toBeLessThan(BigInt(n));

  const second = start(t, 'second');
  await second.started();
  const values = new Set<number>();
  let redelivered = 0;
  await readWhere(t.topic, (r) => {
    values.add(t.serde.decode(r.value).value);
    if (r.headers['mqtt.dup'] === 'true') redelivered += 1;
    return true;
  }, n);
  expect(acked.filter((i) => !values.has(i))).toEqual([]);
  // The held PUBACKs were never sent: the broker delivered those messages again, flagged dup.
  expect(redelivered).toBeGreaterThan(0);
  expect(await stop(second)).toBe(0);
});

test('two connectors in one shared-subscription group split the messages between them and lose none', async () => {
  const t = await newIngestTest('share');
  const group = { MQTT_SHARE_GROUP: t.id.slice(-20) };
  const [a, b] = ['a', 'b'].map((x) => start(t, x, { ...group, MQTT_CLIENT_ID: `${t.id}-${x}` }));
  const ports = [await a!.started(), await b!.started()];
  const n = 400;
  const messages = Array.from({ length: n }, (_, i) => ({ topic: `${t.prefix}/dev-${i % 10}/co2`, payload: String(i) }));
  expect(await publishAll(sharedBroker, {}, messages)).toHaveLength(n);
  const values = new Set((await readWhere(t.topic, () => true, n)).map((r) => t.serde.decode(r.value).value));
  expect(values.size).toBe(n);
  const received = await Promise.all(ports.map((p) => metric(p, 'sluice_mqtt_messages_total')));
  expect(received.every((r) => r > 0)).toBe(true);
  expect(received[0]! + received[1]!).toBe(n);
});

test('while its Kafka is down the connector holds at most its window unacknowledged and reports not ready; it resumes by itself when Kafka is back', async () => {
  const cluster = await startPrivateKafka();
  const client = new Kafka({ brokers: [cluster.brokers], logLevel: logLevel.NOTHING });
  try {
    const t = await newIngestTest('outage');
    const window = 50;
    const inst = start(t, 'main', { KAFKA_BROKERS: cluster.brokers, INGEST_INFLIGHT: String(window), SLUICE_PARTITIONS: '2' });
    const port = await inst.started();
    const message = (i: number) => ({ topic: `${t.prefix}/dev-${i % 5}/pressure`, payload: String(i) });
    await publishAll(sharedBroker, {}, Array.from({ length: 100 }, (_, i) => message(i)));
    await readWhere(t.topic, () => true, 100, client);

    await cluster.kill();
    const n = 600; // under the 1000 messages the shared broker may queue with Mosquitto's defaults
    expect(await publishAll(sharedBroker, {}, Array.from({ length: n }, (_, i) => message(100 + i)))).toHaveLength(n);
    await waitFor('the window to fill', async () => ((await metric(port, 'sluice_mqtt_unacked')) === window ? true : undefined));
    expect(await metric(port, 'sluice_mqtt_messages_total')).toBe(100 + window); // the broker sends no more than the window
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, unknown> }).checks.kafka).not.toBe(true);

    await cluster.start();
    const values = new Set((await readWhere(t.topic, () => true, 100 + n, client)).map((r) => t.serde.decode(r.value).value));
    expect(values.size).toBe(100 + n);
    await waitFor('every message acknowledged', async () => ((await metric(port, 'sluice_mqtt_unacked')) === 0 ? true : undefined));
    expect(await stop(inst)).toBe(0);
  } finally {
    await cluster.kill();
  }
});

/**
 * A TCP proxy to `broker` that closes the first connection when its client sends a SUBSCRIBE (before
 * the broker sees it), as a broker too busy to answer does; later connections pass untouched.
 */
async function dropFirstSubscribe(broker: string): Promise<{ url: string; connections: () => number; close: () => void }> {
  const target = new URL(broker);
  let connections = 0;
  let dropped = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    connections++;
    const upstream = connect(Number(target.port || 1883), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => [client, upstream].forEach((o) => o.destroy()));
    }
    client.on('data', (chunk) => {
      if (!dropped && chunk[0] === 0x82) { // SUBSCRIBE: packet type 8, flags 0b0010
        dropped = true;
        client.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as AddressInfo;
  return { url: `mqtt://127.0.0.1:${port}`, connections: () => connections, close: () => { server.close(); for (const s of sockets) s.destroy(); } };
}

test('a connection that closes while its SUBSCRIBE waits for the SUBACK is not fatal: the next connection subscribes again', async () => {
  // The overload benchmark: with 700,000 messages queued, Mosquitto answered so slowly that ingest's
  // connection closed with a SUBSCRIBE in flight, and ingest exited ("MQTT subscribe failed: Connection closed").
  const proxy = await dropFirstSubscribe(sharedBroker);
  try {
    const t = await newIngestTest('resubscribe', proxy.url);
    const inst = start(t, 'main');
    await inst.started();
    await waitFor('a second connection', async () => (proxy.connections() >= 2 ? true : undefined));
    expect(await publishAll(sharedBroker, {}, [{ topic: `${t.prefix}/device-001/temperature`, payload: '22.5' }], 1)).toHaveLength(1);
    const [reading] = await readWhere(t.topic, () => true, 1);
    expect(t.serde.decode(reading!.value)).toMatchObject({ device_id: 'device-001', value: 22.5 });
    expect(await stop(inst)).toBe(0);
  } finally {
    proxy.close();
  }
});
