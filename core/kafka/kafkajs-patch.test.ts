// The kafkajs patch (patches/kafkajs+2.2.4.patch) changes how records are encoded and decoded: what
// goes through must come back as before.
import { createRequire } from 'node:module';

const load = createRequire(__filename);
const Encoder = load('kafkajs/src/protocol/encoder.js');
const Decoder = load('kafkajs/src/protocol/decoder.js');
const Long = load('kafkajs/src/utils/long.js');
const encodeRecord = load('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const decodeRecord = load('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');

/** CRC-32C computed bit by bit, the plainest way. */
const bitwise = (buf: Buffer) => {
  let crc = ~0;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
};

test('varints and varlongs of every size decode to the value encoded, leaving the next byte in place', () => {
  const numbers = [0, 1, -1, 63, -64, 64, 127, 128, -300, 2 ** 31 - 1, -(2 ** 31), 2 ** 48, -(2 ** 48) - 1, 2 ** 53 - 1, -(2 ** 53)];
  for (let i = 0; i < 2000; i++) numbers.push(Math.trunc((Math.random() - 0.5) * 2 ** (Math.random() * 62)) || 0);
  const longs = [...numbers.map((x) => Long.fromNumber(x)), Long.MAX_VALUE, Long.MIN_VALUE, Long.fromString('1234567890123456789')];
  for (const v of longs) {
    const bytes = new Encoder().writeVarLong(v).buffer;
    const d = new Decoder(Buffer.concat([bytes, Buffer.from([0x55])]));
    expect([v.toString(), d.readVarLong().toString(), d.offset]).toEqual([v.toString(), v.toString(), bytes.length]);
  }
  // Numbers take a path of their own: the same bytes and size as the Long they stand for.
  for (const v of [...numbers, 2 ** 52 - 1, -(2 ** 52) + 1, 2 ** 52]) {
    const expected = new Encoder().writeVarLong(Long.fromNumber(v)).buffer;
    expect([v, new Encoder().writeVarLong(v).buffer]).toEqual([v, expected]);
    expect([v, Encoder.sizeOfVarLong(v)]).toEqual([v, expected.length]);
  }
  for (const v of numbers.filter((x) => x >= -(2 ** 31) && x < 2 ** 31)) {
    expect(new Decoder(new Encoder().writeVarInt(v).buffer).readVarInt()).toBe(v);
  }
});

test('a record keeps its offset, timestamp, key, value and headers, a repeated header as a list', () => {
  const headers = { 'mqtt.topic': 'sensors/d1/temperature', 'mqtt.qos': '1', twice: ['a', 'b'] };
  const bytes = new Encoder().writeEncoder(encodeRecord({ offsetDelta: 7, timestampDelta: 1500, key: Buffer.from('d1'), value: Buffer.from('v'), headers })).buffer;
  const d = new Decoder(bytes);
  d.readVarInt(); // the record's length
  for (const [firstOffset, firstTimestamp, offset, timestamp] of [
    ['41', '1795000000000', '48', '1795000001500'],
    ['9223372036854775000', '-1', '9223372036854775007', '1499'],
  ]) {
    const r = decodeRecord(new Decoder(d.buffer.subarray(d.offset)), { firstOffset, firstTimestamp, magicByte: 2 });
    expect(r).toMatchObject({ offset, timestamp, key: Buffer.from('d1'), value: Buffer.from('v') });
    expect(Object.fromEntries(Object.entries(r.headers as Record<string, Buffer | Buffer[]>).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]))).toEqual(headers);
  }
});

test('CRC-32C (slicing by 8) gives the standard check value and the bitwise result for every length', () => {
  const crc32C = load('kafkajs/src/protocol/recordBatch/crc32C/index.js');
  expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
  for (let n = 0; n < 100; n++) {
    const buf = Buffer.from(Array.from({ length: n * 3 }, () => Math.floor(Math.random() * 256)));
    expect([n * 3, crc32C(buf)]).toEqual([n * 3, bitwise(buf)]);
  }
});

test("a produce request holds each partition's records, written into one encoder, as sent", async () => {
  const produce = load('kafkajs/src/protocol/requests/produce/v3/request.js');
  const decodeBatch = load('kafkajs/src/protocol/recordBatch/v0/decoder.js');
  const messages = [
    { key: Buffer.from('d1'), value: Buffer.from('first'), timestamp: '1795000000000', headers: { 'mqtt.topic': 'sensors/d1/temperature', 'mqtt.qos': '1' } },
    { key: null, value: 'a string', timestamp: '1795000000250', headers: { twice: ['a', 'b'] } },
    { key: 'd3', value: Buffer.alloc(300, 7), timestamp: '1795000000100' },
    { key: 'd4', value: null, timestamp: '1795000000900', headers: {} },
  ];
  const request = produce({ acks: -1, timeout: 30000, topicData: [{ topic: 't', partitions: [{ partition: 2, firstSequence: 0, messages }] }] });
  const d = new Decoder((await request.encode()).buffer);
  expect([d.readString(), d.readInt16(), d.readInt32(), d.readInt32(), d.readString(), d.readInt32(), d.readInt32()]).toEqual([null, -1, 30000, 1, 't', 1, 2]);
  d.readInt32(); // the batch's size
  const batch = await decodeBatch(d);
  expect(batch.records.map((r: { key: Buffer | null; value: Buffer | null; timestamp: string; offset: string; headers: Record<string, Buffer | Buffer[]> }) => ({
    key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, timestamp: r.timestamp, offset: r.offset,
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)])),
  }))).toEqual(messages.map((m, i) => ({
    key: m.key?.toString() ?? null, value: m.value?.toString() ?? null, timestamp: m.timestamp, offset: String(i), headers: m.headers ?? {},
  })));
  expect(d.offset).toBe(d.buffer.length);
});

test('a produce request goes out as size, header and body in one buffer; every batch carries the CRC-32C of its bytes', async () => {
  const produce = load('kafkajs/src/protocol/requests/produce/v3/request.js');
  const createRequest = load('kafkajs/src/protocol/request.js');
  const decodeBatch = load('kafkajs/src/protocol/recordBatch/v0/decoder.js');
  const message = (i: number) => ({ key: `d${i}`, value: Buffer.from(`v${i}`.repeat(i)), timestamp: String(1795000000000 + i), headers: { 'mqtt.topic': `sensors/d${i}/température`, 'mqtt.qos': '1' } });
  const topicData = [
    { topic: 'a', partitions: [{ partition: 0, firstSequence: 0, messages: [message(1), message(2)] }, { partition: 5, firstSequence: 0, messages: [message(3)] }] },
    { topic: 'b', partitions: [{ partition: 1, firstSequence: 0, messages: Array.from({ length: 40 }, (_, i) => message(i + 4)) }] },
  ];
  const sent = (await createRequest({ correlationId: 77, clientId: 'sluice-test', request: produce({ acks: -1, timeout: 30000, topicData }) })).buffer;
  const d = new Decoder(sent);
  expect([d.readInt32(), d.readInt16(), d.readInt16(), d.readInt32(), d.readString()]).toEqual([sent.length - 4, 0, 3, 77, 'sluice-test']);
  expect([d.readString(), d.readInt16(), d.readInt32(), d.readInt32()]).toEqual([null, -1, 30000, 2]);
  for (const { topic, partitions } of topicData) {
    expect([d.readString(), d.readInt32()]).toEqual([topic, partitions.length]);
    for (const { partition, messages } of partitions) {
      expect(d.readInt32()).toBe(partition);
      const size = d.readInt32();
      const bytes = sent.subarray(d.offset, d.offset + size);
      expect(bytes.readUInt32BE(17)).toBe(bitwise(bytes.subarray(21)));
      const batch = await decodeBatch(d);
      expect(batch.records.map((r: { key: Buffer; value: Buffer; timestamp: string; headers: Record<string, Buffer> }) => [String(r.key), String(r.value), r.timestamp, String(r.headers['mqtt.topic'])]))
        .toEqual(messages.map((m) => [m.key, String(m.value), m.timestamp, m.headers['mqtt.topic']]));
    }
  }
  expect(d.offset).toBe(sent.length);
});
