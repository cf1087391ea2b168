/**
 * Recognising a redelivered MQTT message that is already in Kafka, so that it is acknowledged
 * without being written again (the argument, and its limits: README "Exactly once from the device").
 *
 * Every record the connector writes carries the header `sluice.delivery` = `<seq> <packet id> <digest>`:
 * its receive sequence number (per client id, continued across restarts), the MQTT packet id (0 for
 * QoS 0) and an FNV-1a digest of the payload. A broker redelivers a message it has no PUBACK for
 * under its original packet id, flagged dup, and does not give that id to another message until the
 * PUBACK came (MQTT 5 §4.4, §2.2.1).
 */

export const DELIVERY_HEADER = 'sluice.delivery';

/** One message as the connector wrote it. */
export interface Delivery {
  seq: number;
  id: number;
  digest: number;
  topic: string;
  dup: boolean;
}

/** FNV-1a, 32 bits, of the payload: with the topic and packet id it tells one message from another. */
export function digest(payload: Buffer): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < payload.length; i++) h = Math.imul(h ^ payload[i]!, 0x01000193);
  return h >>> 0;
}

export const deliveryHeader = (seq: number, id: number, hash: number) => `${seq} ${id} ${hash}`;

/** The delivery of a record's headers, or undefined when it has none (not written by a connector of this version). */
export function parseDelivery(headers: Readonly<Record<string, string>>): Delivery | undefined {
  const parts = headers[DELIVERY_HEADER]?.split(' ');
  const topic = headers['mqtt.topic'];
  if (parts?.length !== 3 || topic === undefined) return undefined;
  const [seq, id, hash] = parts.map(Number) as [number, number, number];
  if (![seq, id, hash].every(Number.isSafeInteger)) return undefined;
  return { seq, id, digest: hash, topic, dup: headers['mqtt.dup'] === 'true' };
}

/** The packet id a broker that counts up gives the message after one with `id` (1-65535, 0 is never used). */
const nextId = (id: number) => (id === 65_535 ? 1 : id + 1);

/**
 * Messages written to Kafka whose PUBACK the broker may not have: by packet id. A redelivery (dup)
 * of one of them, same topic and payload, is the same message.
 *
 * Two kinds: those whose PUBACK never went out (`owed`: the connection closed first; the broker
 * cannot give their id to another message, so a dup under it is certainly the same one), and those
 * whose PUBACK went out on a connection that then closed (it may have been lost on the way). For the
 * second kind a dup under the id is the same message only if the broker gave no other message that
 * id since: true within the last `window` messages of a broker that counts ids up (Mosquitto), which
 * is checked on every new message; once ids are seen out of order, only `owed` ones are recognised.
 */
export class WrittenUnacked {
  private readonly byId = new Map<number, { topic: string; digest: number; seq: number; owed: boolean }>();
  private readonly window: number;
  private lastId = 0;
  private countsUp = true;

  constructor(window = 0) {
    this.window = window;
  }

  get size(): number {
    return this.byId.size;
  }

  add(id: number, topic: string, hash: number, seq = 0, owed = true): void {
    this.byId.set(id, { topic, digest: hash, seq, owed });
  }

  /**
   * For every arriving QoS 1 message (`seq`: the connector's sequence number now): true when it is
   * a redelivery of a message already written. A message under the id that is not one (not dup, or
   * another topic or payload) means the broker had the PUBACK of the earlier one: the id is
   * forgotten either way.
   */
  take(id: number, topic: string, hash: number, dup: boolean, seq = 0): boolean {
    // A new message gets the id after the last one the broker sent (redeliveries come first, in order).
    if (!dup && this.lastId > 0 && id !== nextId(this.lastId)) this.countsUp = false;
    this.lastId = id;
    const written = this.byId.get(id);
    if (written === undefined) return false;
    this.byId.delete(id);
    const same = dup && written.topic === topic && written.digest === hash;
    return same && (written.owed || (this.countsUp && seq - written.seq <= this.window));
  }
}

export interface Learned {
  unacked: WrittenUnacked;
  /** The sequence number to continue from. */
  nextSeq: number;
  /** Why nothing was taken as possibly unacknowledged, when the tail left a doubt. */
  doubt?: string;
}

/**
 * What a restarted connector learns from the tail of what it wrote (`deliveries`, in any order): the
 * messages that may still lack their PUBACK. At most `window` messages (its Receive Maximum plus the
 * batches in flight) were unacknowledged at any time, so only the last `window` sequence numbers can
 * be; of several under one packet id only the last (the broker reused the id, so it had the PUBACK of
 * the earlier one). That reasoning needs a broker that gives ids in increasing order (Mosquitto does);
 * when the tail shows otherwise, nothing is taken as written: a redelivery is then written again (a
 * possible duplicate, never a loss).
 */
export function learnFromTail(deliveries: readonly Delivery[], window: number): Learned {
  const unacked = new WrittenUnacked(window);
  if (deliveries.length === 0) return { unacked, nextSeq: 0 };
  const sorted = [...deliveries].sort((a, b) => a.seq - b.seq);
  const last = sorted.at(-1)!.seq;
  const recent = sorted.filter((d) => d.seq > last - window);
  for (let i = 1; i < recent.length; i++) {
    const [a, b] = [recent[i - 1]!, recent[i]!];
    if (b.seq === a.seq + 1 && a.id > 0 && b.id > 0 && !a.dup && !b.dup && b.id !== nextId(a.id)) {
      return { unacked, nextSeq: last + 1, doubt: `packet ids ${a.id} then ${b.id} (sequence ${a.seq}, ${b.seq}): the broker does not count ids up` };
    }
  }
  for (const d of recent) if (d.id > 0) unacked.add(d.id, d.topic, d.digest);
  return { unacked, nextSeq: last + 1 };
}

/**
 * The connector's clock for readings without a time of their own: microseconds since the epoch,
 * strictly increasing for the process (so per device and sensor too), never behind the wall clock
 * it was seeded with. Backlogs arrive in bursts that share a millisecond; each gets its own time.
 */
export class ConnectorClock {
  private last: number;

  /** `lastUs`: the latest time an earlier run gave, 0 when none. */
  constructor(lastUs = 0) {
    this.last = lastUs;
  }

  /** The time for a message received at `receivedAtMs`, split as Avro carries it. */
  next(receivedAtMs: number): { time: number; time_us: number } {
    this.last = Math.max(receivedAtMs * 1000, this.last + 1);
    return { time: Math.floor(this.last / 1000), time_us: this.last % 1000 };
  }
}
