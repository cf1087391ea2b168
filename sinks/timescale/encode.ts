import type { Column, TableSpec } from './table.ts';

/** A record that cannot become a row of its table; the message names the column and the problem. */
export class RowError extends Error {
  override readonly name = 'RowError';
}

// COPY text format: backslash, and the delimiters tab, newline and carriage return, are escaped.
const special = /[\\\t\n\r]/g;
const anySpecial = /[\\\t\n\r]/;
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
export const escapeText = (s: string) => (anySpecial.test(s) ? s.replace(special, (c) => escapes[c]!) : s);

const DAY = 86_400_000;
const pad = (n: number, width: number) => String(n).padStart(width, '0');
let cachedDay = NaN;
let dayPrefix = '';

/** toISOString(), faster for the common case: the date part is cached per UTC day. */
export function isoTime(ms: number): string {
  ms = Math.trunc(ms);
  if (ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString(); // years outside 1970–9999
  const day = Math.floor(ms / DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    dayPrefix = new Date(day * DAY).toISOString().slice(0, 11);
  }
  const t = ms - day * DAY;
  return `${dayPrefix}${pad(Math.floor(t / 3_600_000), 2)}:${pad(Math.floor(t / 60_000) % 60, 2)}:${pad(Math.floor(t / 1000) % 60, 2)}.${pad(t % 1000, 3)}Z`;
}

function field(c: Column, v: unknown): string {
  if (v === null || v === undefined) {
    if (c.nullable) return '\\N';
    throw new RowError(`column ${c.name} must not be null`);
  }
  switch (c.type) {
    case 'timestamptz': {
      const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
      if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw new RowError(`column ${c.name} must be a time (ms since the epoch, Date or ISO string), got ${JSON.stringify(v)}`);
      return isoTime(ms);
    }
    case 'double precision':
      if (typeof v !== 'number') throw new RowError(`column ${c.name} must be a number, got ${typeof v}`);
      return String(v); // NaN and ±Infinity are valid double precision input
    case 'bigint':
    case 'integer':
      if ((typeof v !== 'number' || !Number.isInteger(v)) && typeof v !== 'bigint') throw new RowError(`column ${c.name} must be an integer, got ${JSON.stringify(v)}`);
      return String(v);
    case 'boolean':
      if (typeof v !== 'boolean') throw new RowError(`column ${c.name} must be a boolean, got ${typeof v}`);
      return v ? 't' : 'f';
    case 'jsonb':
      return escapeText(JSON.stringify(v));
    case 'text':
      if (typeof v !== 'string') throw new RowError(`column ${c.name} must be a string, got ${typeof v}`);
      return escapeText(v);
  }
}

/**
 * Rows of COPY text written straight into one growing buffer (no row strings to join and encode
 * again), and the offset where each row ends: a run of rows is a slice of the buffer.
 */
export class CopyRows {
  private buf = Buffer.allocUnsafe(1 << 16);
  private pos = 0;
  /** ends[i]: the offset after row i's newline. */
  readonly ends: number[] = [];

  /** Appends the row for `value`; throws RowError, with nothing written, when the value does not fit. */
  add(table: TableSpec, value: unknown): void {
    if (typeof value !== 'object' || value === null) throw new RowError(`a row of ${table.name} must be an object, got ${value === null ? 'null' : typeof value}`);
    const v = value as Record<string, unknown>;
    const start = this.pos;
    try {
      for (let i = 0; i < table.columns.length; i++) {
        if (i > 0) this.write('\t');
        this.write(field(table.columns[i]!, v[table.columns[i]!.name]));
      }
    } catch (err) {
      this.pos = start;
      throw err;
    }
    this.write('\n');
    this.ends.push(this.pos);
  }

  get length(): number {
    return this.ends.length;
  }

  /** The bytes of rows [from, to). */
  slice(from: number, to: number): Buffer {
    return this.buf.subarray(from === 0 ? 0 : this.ends[from - 1], to === 0 ? 0 : this.ends[to - 1]);
  }

  private write(s: string): void {
    if (this.pos + 3 * s.length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + 3 * s.length));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
    // Short ASCII strings (most fields) byte by byte: cheaper than a call into the encoder each.
    if (s.length < 64) {
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.buf[this.pos + i] = c;
      }
      if (i === s.length) {
        this.pos += i;
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}

/**
 * One row of COPY text (with its newline) from a record value, and its conflict key as encoded ('' when
 * the table has none); throws RowError when the value does not fit.
 */
export function encodeRow(table: TableSpec, value: unknown): { row: string; key: string } {
  const rows = new CopyRows();
  rows.add(table, value);
  const row = rows.slice(0, 1).toString('utf8');
  return { row, key: keyOf(table, row) };
}

/** The conflict key of an encoded row: its key columns as encoded, each followed by a tab ('' without a conflict key). */
export function keyOf(table: TableSpec, row: string): string {
  if (!table.conflict) return '';
  const fields = row.slice(0, -1).split('\t');
  let key = '';
  for (let i = 0; i < table.columns.length; i++) if (table.conflict.key.includes(table.columns[i]!.name)) key += `${fields[i]}\t`;
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
