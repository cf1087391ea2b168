import { randomBytes } from 'node:crypto';
import { AvroSerde, readSchema } from './avro.ts';
import { SerdeError } from './errors.ts';
import type { RegistryClient } from './registry.ts';

// An in-memory stand-in for the registry's two lookups: this tests decoding logic only.
function fakeRegistry(byId: Record<number, string>, subjectId: number): RegistryClient {
  return {
    schemaById: async (id: number) => byId[id],
    lookup: async () => ({ id: subjectId, version: 1 }),
  } as unknown as RegistryClient;
}

const v1 = readSchema('sensor-readings');
const reading = { device_id: 'dev-1', sensor_type: 'temperature', value: 22.5, unit: '°C', time: 1_790_000_000_000, ingest_time: 1_790_000_000_123, time_us: 457, time_source: 'connector' };

async function serde(byId: Record<number, string> = { 7: v1 }) {
  const s = new AvroSerde(fakeRegistry(byId, 7), 'sensor-readings-value', v1);
  await s.init();
  return s;
}

test('encodes to the Confluent wire format: magic byte, schema id, Avro body (golden bytes)', async () => {
  const bytes = (await serde()).encode(reading);
  expect(bytes.toString('hex')).toBe(
    '0000000007' + // magic 0, schema id 7
    '0a6465762d31' + // "dev-1": zig-zag length 5, bytes
    '1674656d7065726174757265' + // "temperature"
    '0000000000803640' + // 22.5, little-endian double
    '06c2b043' + // "°C" (3 bytes of UTF-8)
    '80b083c59868' + // 1790000000000 as zig-zag varint
    'f6b183c59868' + // 1790000000123
    '920702', // time_us 457 as zig-zag varint, time_source: enum index 1 (connector)
  );
  expect((await serde()).decode(bytes)).toEqual(reading);
});

test('values larger than the encoder\'s scratch space are encoded whole, and each result is its own copy', async () => {
  const s = await serde();
  const big = { ...reading, device_id: 'd'.repeat(200_000) };
  const first = s.encode(reading);
  const large = s.encode(big);
  const after = s.encode({ ...reading, value: 1 });
  expect(s.decode(large)).toEqual(big);
  expect(s.decode(first)).toEqual(reading);
  expect(s.decode(after)).toEqual({ ...reading, value: 1 });
});

test('decodes records written with an older registered version into the reader schema', async () => {
  const old = JSON.parse(v1);
  old.fields = old.fields.filter((f: { name: string }) => f.name !== 'ingest_time');
  const reader = JSON.parse(v1);
  reader.fields.find((f: { name: string }) => f.name === 'ingest_time').default = 0;
  const oldSerde = new AvroSerde(fakeRegistry({ 3: JSON.stringify(old) }, 3), 's-value', JSON.stringify(old));
  await oldSerde.init();
  const { ingest_time: _, ...withoutIngest } = reading;
  const bytes = oldSerde.encode(withoutIngest);

  const current = new AvroSerde(fakeRegistry({ 3: JSON.stringify(old), 9: JSON.stringify(reader) }, 9), 's-value', JSON.stringify(reader));
  await current.init();
  await current.prepare([bytes]);
  expect(current.decode(bytes)).toEqual({ ...withoutIngest, ingest_time: 0 });
});

test.each([
  ['null value', null, 'empty'],
  ['fewer than 5 bytes', Buffer.from([0, 0, 0]), 'truncated'],
  ['bad magic byte', Buffer.from([1, 0, 0, 0, 7, 2, 65]), 'bad-magic'],
  ['unknown schema id', Buffer.from([0, 0, 0, 1, 0, 2, 65]), 'unknown-schema'],
  ['string length beyond the body', Buffer.from([0, 0, 0, 0, 7, 0x7e, 65]), 'truncated'],
  ['bytes left over', Buffer.concat([Buffer.from('000000000700', 'hex'), Buffer.alloc(40)]), 'corrupt'],
] as const)('refuses %s with reason %s', async (_name, bytes, reason) => {
  const s = await serde();
  await s.prepare([bytes]);
  let err: unknown;
  try {
    s.decode(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SerdeError);
  expect((err as SerdeError).reason).toBe(reason);
});

test('refuses to encode a value that does not fit, naming the field', async () => {
  const s = await serde();
  expect(() => s.encode({ ...reading, value: 'hot' } as never)).toThrow(/value = "hot"/);
});

test('fuzz: random and truncated bodies only ever raise SerdeError, and memory stays flat', async () => {
  const s = await serde();
  const good = s.encode(reading);
  const heapBefore = process.memoryUsage().heapUsed;
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    const kind = i % 3;
    const bytes = kind === 0
      ? Buffer.concat([good.subarray(0, 5), randomBytes(i % 64)]) // valid header, random body
      : kind === 1
        ? good.subarray(0, i % good.length) // truncated
        : Buffer.concat([good.subarray(0, 5), good.subarray(5).map((b, j) => (j === i % (good.length - 5) ? b ^ 0xff : b))]); // one byte flipped
    try {
      s.decode(bytes);
    } catch (err) {
      if (!(err instanceof SerdeError)) throw err;
      refused++;
    }
  }
  expect(refused).toBeGreaterThan(10_000);
  expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
});
