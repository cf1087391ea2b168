import type { Column, TableSpec } from './table.ts';

/** A record that cannot become a row of its table; the message names the column and the problem. */
export class RowError extends Error {
  override readonly name = 'RowError';
}

/**
 * COPY binary format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4): a
 * signature, flags and header extension length, then per row a field count and each field as a
 * length (-1 for null) and the type's binary send format; -1 as field count ends the data. Nothing
 * is printed or parsed as text: times go as microseconds since 2000, doubles as IEEE 754 bytes.
 */
export const COPY_HEADER = Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1');
export const COPY_TRAILER = Buffer.from([0xff, 0xff]);

/** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in ms since 1970. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

function timeMs(c: Column, v: unknown): number {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw new RowError(`column ${c.name} must be a time (ms since the epoch, Date or ISO string), got ${JSON.stringify(v)}`);
  return Math.trunc(ms);
}

/** The microseconds within the millisecond that a `micros` field adds to its time: absent is 0. */
function micros(c: Column, v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 999) throw new RowError(`column ${c.name}: ${c.micros} must be an integer from 0 to 999 (microseconds), got ${JSON.stringify(v)}`);
  return v;
}

function int64(c: Column, v: unknown): bigint | number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
    const b = BigInt(v);
    if (b >= INT64[0] && b <= INT64[1]) return b;
  }
  throw new RowError(`column ${c.name} must be an integer within 64 bits, got ${typeof v === 'bigint' ? v : JSON.stringify(v)}`);
}

/**
 * Rows in COPY binary format written straight into one growing buffer, and the offset where each row
 * ends: a run of rows is a slice of the buffer, sent between COPY_HEADER and COPY_TRAILER.
 */
export class CopyRows {
  private buf = Buffer.allocUnsafe(1 << 16);
  private pos = 0;
  /** ends[i]: the offset after row i. */
  readonly ends: number[] = [];

  /** Appends the row for `value`; throws RowError, with nothing written, when the value does not fit. */
  add(table: TableSpec, value: unknown): void {
    if (typeof value !== 'object' || value === null) throw new RowError(`a row of ${table.name} must be an object, got ${value === null ? 'null' : typeof value}`);
    const v = value as Record<string, unknown>;
    const start = this.pos;
    try {
      this.room(2);
      this.buf.writeInt16BE(table.columns.length, this.pos);
      this.pos += 2;
      for (const c of table.columns) this.field(c, v[c.name], c.micros === undefined ? 0 : micros(c, v[c.micros]));
    } catch (err) {
      this.pos = start;
      throw err;
    }
    this.ends.push(this.pos);
  }

  get length(): number {
    return this.ends.length;
  }

  /** The bytes of rows [from, to). */
  slice(from: number, to: number): Buffer {
    return this.buf.subarray(from === 0 ? 0 : this.ends[from - 1], to === 0 ? 0 : this.ends[to - 1]);
  }

  private field(c: Column, v: unknown, us: number): void {
    if (v === null || v === undefined) {
      if (!c.nullable) throw new RowError(`column ${c.name} must not be null`);
      this.room(4);
      this.pos = this.buf.writeInt32BE(-1, this.pos);
      return;
    }
    switch (c.type) {
      case 'timestamptz': {
        const sincePgEpoch = timeMs(c, v) - PG_EPOCH_MS;
        const total = sincePgEpoch * 1000 + us;
        return this.int8(Number.isSafeInteger(total) ? total : BigInt(sincePgEpoch) * 1000n + BigInt(us));
      }
      case 'double precision':
        if (typeof v !== 'number') throw new RowError(`column ${c.name} must be a number, got ${typeof v}`);
        this.room(12);
        this.buf.writeInt32BE(8, this.pos);
        this.pos = this.buf.writeDoubleBE(v, this.pos + 4); // NaN and ±Infinity are valid double precision
        return;
      case 'bigint':
        return this.int8(int64(c, v));
      case 'integer':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RowError(`column ${c.name} must be an integer within 32 bits, got ${JSON.stringify(v)}`);
        this.room(8);
        this.buf.writeInt32BE(4, this.pos);
        this.pos = this.buf.writeInt32BE(v, this.pos + 4);
        return;
      case 'boolean':
        if (typeof v !== 'boolean') throw new RowError(`column ${c.name} must be a boolean, got ${typeof v}`);
        this.room(5);
        this.buf.writeInt32BE(1, this.pos);
        this.buf[this.pos + 4] = v ? 1 : 0;
        this.pos += 5;
        return;
      case 'jsonb': {
        const json = JSON.stringify(v) as string | undefined;
        if (json === undefined) throw new RowError(`column ${c.name} must be a JSON value, got ${typeof v}`);
        return this.text('\x01' + json); // jsonb's binary format: version 1, then the JSON text
      }
      case 'text':
        if (typeof v !== 'string') throw new RowError(`column ${c.name} must be a string, got ${typeof v}`);
        return this.text(v);
    }
  }

  /** A 64-bit integer field: a safe integer number (as two 32-bit halves, no BigInt) or a bigint in range. */
  private int8(n: number | bigint): void {
    this.room(12);
    this.buf.writeInt32BE(8, this.pos);
    if (typeof n === 'bigint') this.buf.writeBigInt64BE(n, this.pos + 4);
    else {
      const high = Math.floor(n / TWO_32);
      this.buf.writeInt32BE(high, this.pos + 4);
      this.buf.writeUInt32BE(n - high * TWO_32, this.pos + 8);
    }
    this.pos += 12;
  }

  /** A length and the UTF-8 bytes of `s`. */
  private text(s: string): void {
    this.room(4 + 3 * s.length);
    const at = this.pos + 4;
    let n = 0;
    // Short ASCII strings (most fields) byte by byte: cheaper than a call into the encoder each.
    if (s.length < 64) {
      for (; n < s.length; n++) {
        const ch = s.charCodeAt(n);
        if (ch >= 0x80) break;
        this.buf[at + n] = ch;
      }
    }
    if (n < s.length) n = this.buf.write(s, at, 'utf8');
    this.buf.writeInt32BE(n, this.pos);
    this.pos = at + n;
  }

  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/** The conflict key of an encoded row (a slice of one row): its key fields' bytes, each with its length ('' without a conflict key). */
export function keyOf(table: TableSpec, row: Buffer): string {
  if (!table.conflict) return '';
  let key = '';
  let at = 2;
  for (const c of table.columns) {
    const len = row.readInt32BE(at);
    const end = at + 4 + Math.max(0, len);
    if (table.conflict.key.includes(c.name)) key += `${len}:${row.toString('latin1', at + 4, end)}`;
    at = end;
  }
  return key;
}

/** Keeps the last row of each conflict key: one COPY or upsert cannot take a key twice. */
export function dedupe<R extends { key: string }>(table: TableSpec, rows: readonly R[]): R[] {
  if (!table.conflict) return [...rows];
  const byKey = new Map<string, R>();
  for (const r of rows) {
    byKey.delete(r.key);
    byKey.set(r.key, r);
  }
  return [...byKey.values()];
}
