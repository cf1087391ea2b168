import { ConfigError } from '../../core/component.ts';

/** Column types the sink can encode for COPY (binary format). */
export type ColumnType = 'timestamptz' | 'text' | 'double precision' | 'bigint' | 'integer' | 'boolean' | 'jsonb';

export interface Column {
  /** Column name; the value is read from the record's field of the same name. */
  name: string;
  type: ColumnType;
  /** `true` allows null (and a missing field). Default false. */
  nullable?: boolean;
  /** timestamptz only: the field holding the microseconds within the millisecond (0-999), added to the time. */
  micros?: string;
}

/**
 * A table the sink loads. On a duplicate of `conflict.key` (a unique index must exist on it), rows are
 * ignored (`'nothing'`) or replace the stored columns (`'update'`); without `conflict`, a duplicate is
 * a rejected row.
 */
export interface TableSpec {
  name: string;
  columns: readonly Column[];
  conflict?: { key: readonly string[]; action: 'nothing' | 'update' };
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/** Names end up in SQL as quoted identifiers: only this fixed shape is accepted. */
export function assertIdentifier(what: string, name: string): void {
  if (!identifier.test(name)) throw new ConfigError(`${what} must match ${identifier}, got ${JSON.stringify(name)}`);
}

export const quote = (name: string) => `"${name}"`;

export function validateTable(t: TableSpec): TableSpec {
  assertIdentifier('table name', t.name);
  if (t.columns.length === 0) throw new ConfigError(`table ${t.name}: columns must not be empty`);
  const names = new Set<string>();
  for (const c of t.columns) {
    assertIdentifier(`table ${t.name}: column name`, c.name);
    if (names.has(c.name)) throw new ConfigError(`table ${t.name}: column ${c.name} is listed twice`);
    names.add(c.name);
    if (c.micros !== undefined && c.type !== 'timestamptz') throw new ConfigError(`table ${t.name}: column ${c.name}: micros applies to timestamptz columns only`);
  }
  for (const k of t.conflict?.key ?? []) {
    if (!names.has(k)) throw new ConfigError(`table ${t.name}: conflict key column ${k} is not one of its columns`);
  }
  if (t.conflict && t.conflict.key.length === 0) throw new ConfigError(`table ${t.name}: conflict key must name at least one column`);
  return Object.freeze({ ...t, columns: Object.freeze([...t.columns]) });
}

/** The hot table of readings: a redelivered reading (same device, sensor and time) is stored once. */
export const sensorData: TableSpec = validateTable({
  name: 'sensor_data',
  columns: [
    { name: 'time', type: 'timestamptz', micros: 'time_us' },
    { name: 'device_id', type: 'text' },
    { name: 'sensor_type', type: 'text' },
    { name: 'value', type: 'double precision' },
    { name: 'unit', type: 'text', nullable: true },
    { name: 'time_source', type: 'text', nullable: true },
  ],
  conflict: { key: ['device_id', 'sensor_type', 'time'], action: 'nothing' },
});

/** Alerts by their deterministic id, written by `alerting`: opening inserts, clearing updates. */
export const alertsTable: TableSpec = validateTable({
  name: 'alerts',
  columns: [
    { name: 'id', type: 'text' },
    { name: 'device_id', type: 'text' },
    { name: 'sensor_type', type: 'text' },
    { name: 'rule', type: 'text' },
    { name: 'severity', type: 'text' },
    { name: 'message', type: 'text' },
    { name: 'value', type: 'double precision', nullable: true },
    { name: 'opened_at', type: 'timestamptz' },
    { name: 'cleared_at', type: 'timestamptz', nullable: true },
  ],
  conflict: { key: ['id'], action: 'update' },
});
