import type { MqttClient } from 'mqtt';

/** A PUBACK owed to the broker for one QoS 1 message, tied to the connection it arrived on. */
export interface AckToken {
  readonly messageId: number;
  readonly connection: number;
}

type SendPacket = (packet: Record<string, unknown>, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

/**
 * Takes PUBACKs away from MQTT.js so that they go out only when `release` is called.
 *
 * MQTT.js (pinned at 5.16.0) has no API for this: it writes the PUBACK from `handleMessage`'s
 * callback, and holding that callback stops it reading (DESIGN.md §8). So this wraps the one
 * private method PUBACKs go through, `_sendPacket`, swallowing the automatic ones; the client
 * keeps reading; `release` writes the held ones to the connection itself. A PUBACK from an earlier connection is never sent on a later one: the broker
 * redelivers those messages, possibly under the same packet id. The redelivery integration test
 * (connectors/mqtt/ingest.int.test.ts) guards this against changes inside MQTT.js.
 */
export function holdPubacks(client: MqttClient) {
  const target = client as unknown as { _sendPacket: SendPacket };
  const send = target._sendPacket.bind(client);
  if (typeof send !== 'function') throw new Error('this MQTT.js version has no _sendPacket: see connectors/mqtt/acks.ts');
  let connection = 0;
  client.on('close', () => (connection += 1));
  target._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd !== 'puback') return send(packet, cb, ...rest);
    cb?.();
  };
  return {
    /** The token for a message that has just arrived. */
    token: (messageId: number): AckToken => ({ messageId, connection }),
    /** Sends the PUBACKs still owed on the current connection, in the order given; returns those that did not go out. */
    release(tokens: readonly AckToken[]): AckToken[] {
      if (!client.connected) return [...tokens];
      const owed = tokens.filter((t) => t.connection === connection);
      // One write for the lot: through MQTT.js each PUBACK is a packet object and a stream write of
      // its own, which cost the connector as much CPU as its Avro encoding. A PUBACK with reason
      // Success and no properties is these 4 bytes in MQTT 3.1.1 and 5 alike (MQTT 5 §3.4.2.1).
      const bytes = Buffer.allocUnsafe(4 * owed.length);
      owed.forEach((t, i) => {
        bytes[4 * i] = 0x40;
        bytes[4 * i + 1] = 2;
        bytes.writeUInt16BE(t.messageId, 4 * i + 2);
      });
      if (owed.length > 0) client.stream.write(bytes);
      return owed.length === tokens.length ? [] : tokens.filter((t) => t.connection !== connection);
    },
    /** True while the message's connection is still open: otherwise the broker will deliver it again. */
    current: (t: AckToken) => t.connection === connection,
  };
}
export type PubackGate = ReturnType<typeof holdPubacks>;
