import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { HEADER_BYTES, MAGIC, decodeWire } from './wire.ts';
import { SerdeError } from './errors.ts';
import type { RegistryClient } from './registry.ts';

type Resolver = ReturnType<avro.Type['createResolver']>;

/** Where `<name>.avsc` files are read: SLUICE_SCHEMAS_DIR (the bin/ commands set it), else ./schemas. */
export const schemasDir = process.env.SLUICE_SCHEMAS_DIR ?? join(process.cwd(), 'schemas');

/** The text of `schemas/<name>.avsc`, normalised (parsed and printed back). */
export function readSchema(name: string, dir = schemasDir): string {
  const text = readFileSync(join(dir, `${name}.avsc`), 'utf8');
  return JSON.stringify(JSON.parse(text));
}

/**
 * Avro in the Confluent wire format for one subject. Decoding accepts every registered writer
 * schema that the reader schema can resolve; encoding writes the reader schema's registered id.
 * Call `prepare` with a batch before decoding it: it fetches the writer schemas it has not seen.
 */
export class AvroSerde<T = unknown> {
  readonly subject: string;
  private readonly registry: RegistryClient;
  private readonly reader: avro.Type;
  private readonly readerSchema: string;
  private readonly resolvers = new Map<number, Resolver | SerdeError>();
  private writeId: number | undefined;
  /** Where encode writes the wire format before copying it out. */
  private scratch = Buffer.alloc(1 << 16);

  constructor(registry: RegistryClient, subject: string, schema: string) {
    this.registry = registry;
    this.subject = subject;
    this.readerSchema = schema;
    this.reader = avro.Type.forSchema(JSON.parse(schema));
  }

  /** Looks up the id under which the reader schema is registered; needed before `encode`. */
  async init(): Promise<void> {
    const found = await this.registry.lookup(this.subject, this.readerSchema);
    if (!found) {
      throw new SerdeError('unknown-schema', `schema for subject ${this.subject} is not registered: run bin/register-schemas`);
    }
    this.writeId = found.id;
    this.resolvers.set(found.id, this.reader.createResolver(this.reader));
  }

  async prepare(values: Iterable<Buffer | null>): Promise<void> {
    const ids = new Set<number>();
    for (const v of values) {
      if (v && v.length >= 5 && v[0] === 0) ids.add(v.readInt32BE(1));
    }
    for (const id of ids) {
      if (this.resolvers.has(id)) continue;
      const schema = await this.registry.schemaById(id);
      if (schema === undefined) continue; // unknown now; asked again with the next batch that has it
      try {
        this.resolvers.set(id, this.reader.createResolver(avro.Type.forSchema(JSON.parse(schema))));
      } catch (err) {
        this.resolvers.set(id, new SerdeError('incompatible-schema', `writer schema ${id} cannot be read as ${this.subject}: ${(err as Error).message}`));
      }
    }
  }

  decode(bytes: Buffer | null): T {
    const { schemaId, body } = decodeWire(bytes);
    const resolver = this.resolvers.get(schemaId);
    if (resolver === undefined) throw new SerdeError('unknown-schema', `schema id ${schemaId} is not known to the registry`);
    if (resolver instanceof SerdeError) throw resolver;
    let decoded: { value: T; offset: number };
    try {
      decoded = this.reader.decode(body, 0, resolver);
    } catch (err) {
      throw new SerdeError('corrupt', `Avro body does not decode with schema id ${schemaId}: ${(err as Error).message}`);
    }
    if (decoded.offset < 0) {
      throw new SerdeError('truncated', `a length in the Avro body is larger than the ${body.length} bytes it has`);
    }
    if (decoded.offset !== body.length) {
      throw new SerdeError('corrupt', `${body.length - decoded.offset} bytes left over after the record (schema id ${schemaId})`);
    }
    return decoded.value;
  }

  /** Throws an Error naming the field when `value` does not fit the schema. */
  encode(value: T): Buffer {
    if (this.writeId === undefined) throw new Error(`AvroSerde for ${this.subject}: call init() before encode()`);
    // avsc writes whatever it is given without checking, so the value is checked first; a second walk with an errorHook explains a failure.
    if (this.reader.isValid(value)) {
      // Header and body written into one scratch buffer, then copied once into a pooled buffer
      // (toBuffer zero-fills a new buffer per value, and the header needed another copy).
      let end = this.reader.encode(value, this.scratch, HEADER_BYTES);
      if (end < 0) {
        this.scratch = Buffer.alloc(2 * (this.scratch.length - end));
        end = this.reader.encode(value, this.scratch, HEADER_BYTES);
      }
      this.scratch.writeUInt8(MAGIC, 0);
      this.scratch.writeInt32BE(this.writeId, 1);
      const out = Buffer.allocUnsafe(end);
      this.scratch.copy(out, 0, 0, end);
      return out;
    }
    const problems: string[] = [];
    this.reader.isValid(value, { errorHook: (path, v) => problems.push(`${path.join('.') || '(record)'} = ${JSON.stringify(v)}`) });
    throw new SerdeError('corrupt', `value does not fit ${this.subject}: ${problems.join(', ')}`);
  }
}
