// The kafkajs patch (patches/kafkajs+2.2.4.patch) changes how records are encoded and decoded: what
// goes through must come back as before.
import { createRequire } from 'node:module';

const load = createRequire(__filename);
const Encoder = load('kafkajs/src/protocol/encoder.js');
const Decoder = load('kafkajs/src/protocol/decoder.js');
const Long = load('kafkajs/src/utils/long.js');
const encodeRecord = load('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const decodeRecord = load('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');

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
