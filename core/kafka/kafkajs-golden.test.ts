// The kafkajs patch (patches/kafkajs+2.2.4.patch) is for speed: what it sends and what it reads must
// stay stock kafkajs 2.2.4's. node_modules/kafkajs-stock (package.json: npm:kafkajs@2.2.4) is that
// release unpatched; each test gives both the same input and compares bytes or results. The
// test of null header values says where the two differ. (kafkajs-patch.test.ts checks the patched code against itself.)
import { createRequire } from 'node:module';

const load = createRequire(__filename);
const patched = (path: string) => load(`kafkajs/src/${path}`);
const stock = (path: string) => load(`kafkajs-stock/src/${path}`);
const Long = stock('utils/long.js');
const { Types: Compression } = stock('protocol/message/compression/index.js');

/** Where two buffers first differ, and 8 bytes of each from there (hex); null when they are equal. */
const difference = (a: Buffer, b: Buffer) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return null;
  return { at: i, lengths: [a.length, b.length], patched: a.subarray(i, i + 8).toString('hex'), stock: b.subarray(i, i + 8).toString('hex') };
};

test('kafkajs is 2.2.4 patched, kafkajs-stock the same release unpatched', () => {
  expect([load('kafkajs/package.json').version, load('kafkajs-stock/package.json').version]).toEqual(['2.2.4', '2.2.4']);
  expect([typeof patched('protocol/encoder.js').zigZagNumber, typeof stock('protocol/encoder.js').zigZagNumber]).toEqual(['function', 'undefined']);
});

const T = 1795000000000;
/** Keys, values and headers of each kind the patch treats apart: null, empty, up to 64 bytes and more, ASCII or not, strings and buffers. */
const message = (i: number) => ({
  key: [null, `d${i}`, Buffer.from(`device-${i}`), '', 'ä'.repeat(40)][i % 5],
  value: [Buffer.from(`{"t":${20 + i / 10}}`), `température ${i}`, null, 'x'.repeat(60 + i), Buffer.alloc(60 + i, i), 'ü'.repeat(70)][i % 6],
  timestamp: String(T + ((i * 379) % 1000)), // out of order
  headers: i % 4 === 3 ? undefined : {
    'mqtt.topic': `sensors/d${i}/température`, 'mqtt.qos': String(i % 3),
    ...(i % 4 === 1 ? { twice: ['a', Buffer.from('b')], long: 'h'.repeat(70), empty: '' } : {}),
  },
});
const messages = (from: number, count: number) => Array.from({ length: count }, (_, i) => message(from + i));
/** Timestamps 1 ms apart, as numbers. */
const consecutive = messages(4, 5).map((m, i) => ({ ...m, timestamp: T + i }));
type Message = (typeof consecutive)[number] | ReturnType<typeof message>;
/** Timestamps 2^52 ms apart: deltas beyond the patch's plain-number path. */
const farApart = [{ ...message(0), timestamp: '-4600000000000000' }, message(1)];

const topicData = () => [
  { topic: 'a', partitions: [
    { partition: 0, firstSequence: 0, messages: messages(0, 3) },
    { partition: 5, firstSequence: 17, messages: messages(3, 1) },
    { partition: 7, firstSequence: 0, messages: consecutive },
    { partition: 9, firstSequence: 0, messages: farApart },
  ] },
  { topic: 'telemetry.raw', partitions: [{ partition: 1, firstSequence: 3, messages: messages(10, 60) }] },
];

test('produce requests v3 to v7, plain and gzip, idempotent and transactional, are byte for byte stock kafkajs', async () => {
  const producers = [
    {},
    { producerId: Long.fromInt(4000), producerEpoch: 2 },
    { transactionalId: 'sluice-tx', producerId: Long.fromString('9007199254740993'), producerEpoch: 1 },
  ];
  for (const version of [3, 4, 5, 6, 7]) {
    for (const compression of [Compression.None, Compression.GZIP]) {
      for (const [p, producer] of producers.entries()) {
        const [mine, theirs] = await Promise.all([patched, stock].map(async (lib) => {
          const args = { acks: p === 0 ? 1 : -1, timeout: 30000, compression, topicData: topicData(), ...producer };
          const { request } = lib('protocol/requests/produce/index.js').protocol({ version })(args);
          const body = (await request.encode()).buffer as Buffer;
          const sent = (await lib('protocol/request.js')({ correlationId: 77 + version, clientId: 'sluice-test', request })).buffer as Buffer;
          return { body, sent };
        }));
        const label = { version, compression, producer: p };
        expect([label, difference(mine!.body, theirs!.body)]).toEqual([label, null]);
        expect([label, difference(mine!.sent, theirs!.sent)]).toEqual([label, null]);
      }
    }
  }
});

/** A record batch as a broker returns it, encoded by stock kafkajs. */
const batch = async (firstOffset: string, batchMessages: Message[], options: { compression?: number; transactional?: boolean } = {}) => {
  const Record = stock('protocol/recordBatch/record/v0/index.js');
  const { RecordBatch } = stock('protocol/recordBatch/v0/index.js');
  const first = Math.min(...batchMessages.map((m) => Number(m.timestamp)));
  const records = batchMessages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: Number(m.timestamp) - first }));
  const encoded = await RecordBatch({
    ...options, firstOffset: Long.fromString(firstOffset), firstTimestamp: first, maxTimestamp: Math.max(...batchMessages.map((m) => Number(m.timestamp))),
    lastOffsetDelta: records.length - 1, producerId: Long.fromInt(4000), producerEpoch: 1, records,
  });
  return encoded.buffer as Buffer;
};

/** A fetch response (v11, kafkajs's newest) holding a record set per topic and partition. */
const fetchResponse = (topics: [string, [number, Buffer][]][]) => {
  const encoder = new (stock('protocol/encoder.js'))().writeInt32(0).writeInt16(0).writeInt32(123).writeInt32(topics.length);
  for (const [topic, partitions] of topics) {
    encoder.writeString(topic).writeInt32(partitions.length);
    for (const [partition, recordSet] of partitions) {
      encoder.writeInt32(partition).writeInt16(0).writeInt64('9000').writeInt64('9000').writeInt64('0').writeInt32(0).writeInt32(-1).writeBytes(recordSet);
    }
  }
  return encoder.buffer as Buffer;
};

test('fetch responses decode to the records stock kafkajs gives: plain and gzip batches, big offsets, log-append time, a cut-off last batch', async () => {
  const logAppendTime = await batch('500', messages(20, 4));
  logAppendTime[22]! |= 0x08; // the attributes' timestamp type (the decoder checks no CRC)
  const cutOff = await batch('900', messages(30, 5));
  const bytes = fetchResponse([
    ['a', [
      [0, Buffer.concat([await batch('41', messages(0, 12)), await batch('53', messages(12, 8), { compression: Compression.GZIP }), logAppendTime])],
      [3, Buffer.concat([await batch('7', farApart, { transactional: true }), await batch('9', consecutive), await batch('9223372036854775000', messages(40, 7))])],
    ]],
    ['telemetry.raw', [[1, Buffer.concat([await batch('0', messages(50, 30)), cutOff.subarray(0, cutOff.length - 10)])]]],
  ]);
  const [mine, theirs] = await Promise.all([patched, stock].map(async (lib) => {
    const { decode, parse } = lib('protocol/requests/fetch/v11/response.js');
    return parse(await decode(bytes));
  }));
  expect(mine).toStrictEqual(theirs);
  const counts = theirs.responses.map((t: { partitions: { messages: unknown[] }[] }) => t.partitions.map((p) => p.messages.length));
  expect(counts).toEqual([[12 + 8 + 4, 7 + 2 + 5], [30]]); // not two empty results alike
});

test('messages are grouped by partition as stock kafkajs groups them', () => {
  const partitioner = ({ message }: { message: { key: string } }) => Number(message.key.slice(1)) % 3;
  const args = { topic: 't', partitionMetadata: [0, 1, 2].map((partitionId) => ({ partitionId })), messages: messages(0, 50).map((m, i) => ({ ...m, key: `d${i * 7}` })), partitioner };
  const group = (lib: typeof stock) => lib('producer/groupMessagesPerPartition.js');
  expect(group(patched)(args)).toStrictEqual(group(stock)(args));
  expect(group(patched)({ ...args, partitionMetadata: [] })).toStrictEqual({});
});

test('where the patch differs: it writes a header whose value is null (stock throws)', () => {
  const record = (lib: typeof stock, headers: object) => lib('protocol/recordBatch/record/v0/index.js')({ key: 'k', value: 'v', headers }).buffer as Buffer;
  const decodeRecord = (lib: typeof stock, bytes: Buffer) => lib('protocol/recordBatch/record/v0/decoder.js')(new (lib('protocol/decoder.js'))(bytes), { firstOffset: '0', firstTimestamp: '0', magicByte: 2 });
  expect(() => record(stock, { h: null })).toThrow('Received null'); // Buffer.byteLength(null)
  // The bytes of { h: '' } but for the value's length, -1 (zigzag 0x01) for null: Kafka's null header
  // value, which stock kafkajs reads back as null.
  const empty = record(stock, { h: '' });
  const withNull = record(patched, { h: null });
  expect(withNull).toEqual(Buffer.concat([empty.subarray(0, -1), Buffer.from([0x01])]));
  expect(decodeRecord(stock, withNull.subarray(1)).headers).toStrictEqual({ h: null }); // after the record's length (1 byte)
});

test('headers named after Object.prototype\'s properties decode as stock decodes them: __proto__ an own header, not the prototype', () => {
  const decodeRecord = (lib: typeof stock, bytes: Buffer) => lib('protocol/recordBatch/record/v0/decoder.js')(new (lib('protocol/decoder.js'))(bytes), { firstOffset: '0', firstTimestamp: '0', magicByte: 2 });
  const Encoder = stock('protocol/encoder.js');
  const body = new Encoder().writeInt8(0).writeVarLong(0).writeVarInt(0).writeVarIntBytes('k').writeVarIntBytes('v').writeVarInt(3)
    .writeVarIntString('toString').writeVarIntBytes('y').writeVarIntString('h').writeVarIntBytes('z').writeVarIntString('__proto__').writeVarIntBytes('x').buffer;
  const [mine, theirs] = [patched, stock].map((lib) => decodeRecord(lib, body).headers);
  // Both give toString as the list [Object.prototype.toString, value] and __proto__ as the list
  // [Object.prototype, value]: stock's own quirk (it looks the name up before it is set), kept.
  expect(Object.keys(mine)).toEqual(['toString', 'h', '__proto__']);
  expect(Object.getPrototypeOf(mine)).toBe(Object.prototype);
  expect(Object.getOwnPropertyDescriptor(mine, '__proto__')!.value).toEqual([Object.prototype, Buffer.from('x')]);
  expect(mine).toStrictEqual(theirs);
});
