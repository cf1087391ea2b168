import mqtt from 'mqtt';
import { conn, uniqueName } from './connections.ts';

test('QoS 1 messages published to Mosquitto all reach a subscriber, in order, as QoS 1', async () => {
  const topic = `sluice-smoke/${uniqueName('dev')}/temperature`;
  const sub = await mqtt.connectAsync(conn.MQTT_BROKER, { clientId: uniqueName('sub'), reconnectPeriod: 0 });
  const pub = await mqtt.connectAsync(conn.MQTT_BROKER, { clientId: uniqueName('pub'), reconnectPeriod: 0 });
  try {
    await sub.subscribeAsync(topic, { qos: 1 });
    const received: { payload: string; qos: number }[] = [];
    const all = new Promise<void>((resolve) => {
      sub.on('message', (_t, payload, packet) => {
        received.push({ payload: payload.toString(), qos: packet.qos });
        if (received.length === 200) resolve();
      });
    });
    for (let i = 0; i < 200; i++) await pub.publishAsync(topic, String(20 + i / 100), { qos: 1 });
    await all;
    expect(received.map((m) => m.payload)).toEqual(Array.from({ length: 200 }, (_, i) => String(20 + i / 100)));
    expect(received.every((m) => m.qos === 1)).toBe(true);
  } finally {
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  }
});
