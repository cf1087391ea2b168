import { ConnectorClock, WrittenUnacked, deliveryHeader, digest, learnFromTail, parseDelivery, type Delivery } from './redelivery.ts';

const d = (seq: number, id: number, extra: Partial<Delivery> = {}): Delivery => ({ seq, id, digest: 7, topic: 'sensors/d1/temperature', dup: false, ...extra });

describe('WrittenUnacked', () => {
  test('a redelivery (dup) of a written message, same topic and payload, is recognised once', () => {
    const w = new WrittenUnacked();
    w.add(5, 'sensors/d1/temperature', 7);
    expect(w.take(5, 'sensors/d1/temperature', 7, true)).toBe(true);
    expect(w.take(5, 'sensors/d1/temperature', 7, true)).toBe(false);
  });

  test('another message under the id (not dup, or another payload or topic) is written, and the id forgotten', () => {
    const w = new WrittenUnacked();
    w.add(5, 't', 7);
    expect(w.take(5, 't', 7, false)).toBe(false);
    expect(w.size).toBe(0);
    w.add(6, 't', 7);
    expect(w.take(6, 't', 8, true)).toBe(false);
    w.add(7, 't', 7);
    expect(w.take(7, 'u', 7, true)).toBe(false);
  });

  test('a message whose PUBACK went out and was lost with the connection: its redelivery is recognised while the broker counts ids up, within the window', () => {
    const w = new WrittenUnacked(100);
    for (let id = 1; id <= 3; id++) {
      expect(w.take(id, 't', id, false, id)).toBe(false); // new messages 1, 2, 3
      w.add(id, 't', id, id, false); // written; PUBACK sent
    }
    expect(w.take(2, 't', 2, true, 4)).toBe(true); // the broker never got the PUBACK of 2
    expect(w.take(3, 't', 3, true, 500)).toBe(false); // too long ago to be sure: written again (a duplicate, never a loss)
  });

  test('once the broker gives ids out of order, only messages whose PUBACK never went out are recognised', () => {
    const w = new WrittenUnacked(100);
    w.take(1, 't', 1, false, 1);
    w.add(1, 't', 1, 1, false);
    w.take(9, 't', 9, false, 2); // 9 after 1
    w.add(9, 't', 9, 2, true); // its PUBACK could not be sent
    expect(w.take(1, 't', 1, true, 3)).toBe(false);
    expect(w.take(9, 't', 9, true, 3)).toBe(true);
  });
});

describe('learnFromTail', () => {
  test('takes the ids of the last `window` sequence numbers, and continues the sequence', () => {
    const tail = Array.from({ length: 10 }, (_, i) => d(100 + i, 40 + i));
    const { unacked, nextSeq, doubt } = learnFromTail(tail.reverse(), 3);
    expect(doubt).toBeUndefined();
    expect(nextSeq).toBe(110);
    expect(unacked.size).toBe(3);
    expect(unacked.take(49, 'sensors/d1/temperature', 7, true)).toBe(true);
    expect(unacked.take(46, 'sensors/d1/temperature', 7, true)).toBe(false); // older than the window: acknowledged
  });

  test('ids wrap from 65535 to 1; QoS 0 records (id 0), redeliveries and gaps are not taken as evidence', () => {
    const tail = [d(1, 65_534), d(2, 65_535), d(3, 1), d(4, 0), d(5, 3), d(6, 9, { dup: true }), d(8, 4)];
    expect(learnFromTail(tail, 100).doubt).toBeUndefined();
  });

  test('a broker that does not count ids up leaves a doubt: nothing is taken as written (a duplicate, never a loss)', () => {
    const tail = [d(1, 1), d(2, 2), d(3, 1)];
    const learned = learnFromTail(tail, 100);
    expect(learned.doubt).toMatch(/does not count ids up/);
    expect(learned.unacked.size).toBe(0);
    expect(learned.nextSeq).toBe(4);
  });

  test('nothing written before: sequence from 0', () => {
    expect(learnFromTail([], 10)).toMatchObject({ nextSeq: 0 });
  });
});

test('the delivery header round-trips, with the MQTT headers', () => {
  const h = { 'sluice.delivery': deliveryHeader(12, 345, digest(Buffer.from('22.5'))), 'mqtt.topic': 'sensors/a/b', 'mqtt.dup': 'true' };
  expect(parseDelivery(h)).toEqual({ seq: 12, id: 345, digest: digest(Buffer.from('22.5')), topic: 'sensors/a/b', dup: true });
  expect(parseDelivery({ 'mqtt.topic': 'x' })).toBeUndefined();
  expect(digest(Buffer.from('22.5'))).not.toBe(digest(Buffer.from('22.6')));
});

test('the connector clock gives every message its own time, increasing, at the wall clock when it can', () => {
  const clock = new ConnectorClock();
  const t0 = Date.UTC(2026, 11, 1);
  const burst = Array.from({ length: 1500 }, () => clock.next(t0));
  const us = burst.map((x) => x.time * 1000 + x.time_us);
  expect(new Set(us).size).toBe(1500);
  expect(us.every((x, i) => i === 0 || x > us[i - 1]!)).toBe(true);
  expect(burst[0]).toEqual({ time: t0, time_us: 0 });
  expect(burst[1499]).toEqual({ time: t0 + 1, time_us: 499 }); // a burst of 1500 in one ms spills 1.5 ms
  expect(clock.next(t0 + 10)).toEqual({ time: t0 + 10, time_us: 0 });
  // Seeded from an earlier run whose clock was ahead of the wall clock: never behind it.
  expect(new ConnectorClock((t0 + 5) * 1000 + 3).next(t0)).toEqual({ time: t0 + 5, time_us: 4 });
});
