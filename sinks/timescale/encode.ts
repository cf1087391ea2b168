import type { Column, TableSpec } from './table.ts';

/** A record that cannot become a row of its table; the message names the column and the problem. */
export class RowError extends Error {
  override readonly name = 'RowError';
}

// COPY text format: backslash, and the delimiters tab, newline and carriage return, are escaped.
const special = /[\\\t\n\r]/g;
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
export const escapeText = (s: string) => s.replace(special, (c) => escapes[c]!);

function field(c: Column, v: unknown): string {
  if (v === null || v === undefined) {
    if (c.nullable) return '\\N';
    throw new RowError(`column ${c.name} must not be null`);
  }
  switch (c.type) {
    case 'timestamptz': {
      const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
      if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw new RowError(`column ${c.name} must be a time (ms since the epoch, Date or ISO string), got ${JSON.stringify(v)}`);
      return new Date(ms).toISOString();
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

/** One row of COPY text (with its newline) from a record value; throws RowError when it does not fit. */
export function encodeRow(table: TableSpec, value: unknown): string {
  if (typeof value !== 'object' || value === null) throw new RowError(`a row of ${table.name} must be an object, got ${value === null ? 'null' : typeof value}`);
  const v = value as Record<string, unknown>;
  return `${table.columns.map((c) => field(c, v[c.name])).join('\t')}\n`;
}

/** Keeps the last row of each conflict key (as encoded): one COPY or upsert cannot take a key twice. */
export function dedupe<T>(table: TableSpec, rows: readonly { row: string; item: T }[]): { row: string; item: T }[] {
  if (!table.conflict) return [...rows];
  const idx = table.conflict.key.map((k) => table.columns.findIndex((c) => c.name === k));
  const byKey = new Map<string, { row: string; item: T }>();
  for (const r of rows) {
    const fields = r.row.slice(0, -1).split('\t');
    const key = idx.map((i) => fields[i]).join('\t');
    byKey.delete(key);
    byKey.set(key, r);
  }
  return [...byKey.values()];
}

/** Joins rows into chunks of about `bytes` characters: few, large writes to the COPY stream. */
export function chunk(rows: readonly string[], bytes = 256 << 10): string[] {
  const out: string[] = [];
  let parts: string[] = [];
  let size = 0;
  for (const r of rows) {
    parts.push(r);
    size += r.length;
    if (size >= bytes) {
      out.push(parts.join(''));
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) out.push(parts.join(''));
  return out;
}
