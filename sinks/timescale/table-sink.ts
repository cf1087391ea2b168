import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from 'pino';
import {
  type Reject, type SendDeadLetters, type Sink, type SinkFactory, type SourcePartition,
  type OutRecord, SluiceError, loadConfig, faultPoint, retry,
} from '../../core/component.ts';
import { timescaleSchema, type TimescaleConfig } from './timescale-settings.ts';
import { COPY_HEADER, COPY_TRAILER, CopyRows, RowError, dedupe, keyOf } from './encode.ts';
import { OFFSETS_TABLE, ensureSchema } from './schema.ts';
import { quote, validateTable, type TableSpec } from './table.ts';

/** A record and its row in the batch's COPY data. */
interface Row {
  index: number;
  item: OutRecord;
}
type Rejected = { record: OutRecord; reason: string; error: Error };

/** SQLSTATE classes of errors caused by the rows themselves: data exceptions, constraints, limits. */
const rowErrorClass = /^(21|22|23|54)/;
/** Errors that retrying will not fix (bad SQL, missing table, missing privilege, bad password). */
const fatalClass = /^(0A|28|3D|42)/;
const sqlState = (err: unknown) => String((err as { code?: unknown }).code ?? '');

/**
 * Loads records into `table` with COPY and stores the source partition's next offset in the same
 * transaction (exactly-once with `resumeOffset`). Rows the database refuses are isolated by bisection
 * and rejected (→ sluice.dlq); the rest of the batch is written. A database outage is retried with
 * backoff until it ends, which pauses the partition. Settings come from the environment (TIMESCALE_URL…).
 * @example timescaleSink(sensorData)
 */
export function timescaleSink(tableSpec: TableSpec, opts: { offsets?: boolean } = {}, env: Record<string, string | undefined> = process.env): SinkFactory {
  const table = validateTable(tableSpec);
  // Stateful topologies (whose state stores say where processing resumes) write upsert tables
  // without offsets: a replayed batch upserts the same rows.
  if (opts.offsets === false && !table.conflict) throw new SluiceError(`table ${table.name}: without stored offsets the sink needs a conflict key (upsert), or a replayed batch would be stored twice`);
  return async (ctx) => new TimescaleSink(table, loadConfig(timescaleSchema, env), ctx.group, ctx.log, opts.offsets ?? true, ctx.replay !== undefined);
}

const storeOffsetSql = `INSERT INTO ${OFFSETS_TABLE} (consumer_group, target_table, topic, partition, next_offset) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (consumer_group, target_table, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()`;

/**
 * Sets the offsets stored for `group`'s loading of `table` from `topic` (partition → next offset), in
 * one transaction: where the sink resumes on its next assignment (`bin/replay --reset-to`).
 */
export async function resetStoredOffsets(pool: pg.Pool, key: { group: string; table: string; topic: string }, offsets: ReadonlyMap<number, string>): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    for (const [partition, offset] of offsets) await c.query(storeOffsetSql, [key.group, key.table, key.topic, partition, offset]);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

export class TimescaleSink implements Sink {
  private readonly table: TableSpec;
  private readonly cfg: TimescaleConfig;
  private readonly group: string;
  private readonly log: Logger;
  private readonly pool: pg.Pool;
  private closed = false;
  private schemaReady = false;
  private readonly columns: string;
  private readonly stage: string;

  private readonly keepOffsets: boolean;
  private readonly replaying: boolean;

  /**
   * `group` is the consumer group (the topology's, or a replay's): offsets are kept per group, table,
   * topic and partition. A replay's group is used once: its offsets are deleted when the sink closes.
   */
  constructor(table: TableSpec, cfg: TimescaleConfig, group: string, log: Logger, keepOffsets = true, replaying = false) {
    this.keepOffsets = keepOffsets;
    this.replaying = replaying;
    this.table = table;
    this.cfg = cfg;
    this.group = group;
    this.log = log;
    this.pool = new pg.Pool({ connectionString: cfg.TIMESCALE_URL, max: cfg.TIMESCALE_POOL_SIZE, connectionTimeoutMillis: 5000 });
    // An idle connection the server dropped: the next checkout gets a new one.
    this.pool.on('error', (err) => log.warn({ err: { message: err.message } }, `${table.name}: idle database connection lost`));
    // A connection checked out when the server goes away emits 'error' too (between the queries of a
    // transaction): unheard, it would end the process. Its next query fails, and the write is retried.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.columns = table.columns.map((c) => quote(c.name)).join(', ');
    this.stage = quote(`sluice_stage_${table.name}`);
  }

  async check(): Promise<void> {
    const c = await this.pool.connect();
    try {
      if (!this.schemaReady && this.cfg.TIMESCALE_SCHEMA === 'auto') {
        await ensureSchema(c);
      }
      this.schemaReady = true;
      const table = quote(this.table.name); // validated identifier
      await c.query(`SELECT 1 FROM ${table} LIMIT 0`);
    } catch (err) {
      throw new SluiceError(`database for ${this.table.name}: ${(err as Error).message}`, { retriable: true, cause: err });
    } finally {
      c.release();
    }
  }

  topics(): string[] {
    return [];
  }

  async resumeOffset(source: SourcePartition): Promise<string | undefined> {
    if (!this.keepOffsets) return undefined;
    return this.retrying(`read offsets of ${source.topic}/${source.partition}`, async () => {
      const r = await this.pool.query(
        `SELECT next_offset::text AS o FROM ${OFFSETS_TABLE} WHERE consumer_group = $1 AND target_table = $2 AND topic = $3 AND partition = $4`,
        [this.group, this.table.name, source.topic, source.partition],
      );
      return r.rows[0]?.o as string | undefined;
    });
  }

  async resetOffsets(topic: string, offsets: ReadonlyMap<number, string>): Promise<void> {
    if (!this.keepOffsets) return;
    await resetStoredOffsets(this.pool, { group: this.group, table: this.table.name, topic }, offsets);
  }

  async write(records: readonly OutRecord[], source: SourcePartition & { nextOffset: string }, reject: Reject, sendDeadLetters: SendDeadLetters): Promise<void> {
    const encoded = new CopyRows();
    const rows: Row[] = [];
    const invalid: Rejected[] = [];
    for (const item of records) {
      try {
        encoded.add(this.table, item.value);
        rows.push({ index: encoded.length - 1, item });
      } catch (err) {
        if (!(err instanceof RowError)) throw err;
        invalid.push({ record: item, reason: 'invalid', error: err });
      }
    }
    // The batch's dead letters are sent before the commit that stores its offset: a restart after
    // that commit skips the batch. Rejections are reported once, however often the write is retried,
    // and not at all for a batch stored before.
    let reported = false;
    const deadLettersFirst = async (rejected: Rejected[]) => {
      if (!reported) for (const r of [...invalid, ...rejected]) reject(r.record, r.reason, r.error);
      reported = true;
      await sendDeadLetters();
    };
    await this.retrying(`write ${this.table.name}`, () => this.transaction(encoded, rows, source, deadLettersFirst));
  }

  stopping(): void {
    this.closed = true; // a write waiting out an outage fails at its next attempt
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.replaying && this.keepOffsets) {
      await this.pool.query(`DELETE FROM ${OFFSETS_TABLE} WHERE consumer_group = $1 AND target_table = $2`, [this.group, this.table.name])
        .catch((err: Error) => this.log.warn({ err: { message: err.message } }, `${this.table.name}: the offsets of replay group ${this.group} were not deleted`));
    }
    await this.pool.end();
  }

  /** Runs `fn` until it succeeds, with backoff on errors a retry can fix; the partition waits meanwhile. */
  private retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const fatal = (err: unknown) => fatalClass.test(sqlState(err));
    return retry(fn, {
      isRetriable: (err) => !fatal(err) && !this.closed, initialDelayMs: 100, maxDelayMs: 5000,
      onRetry: (err, attempt, retryInMs) => this.log.warn({ err: { message: (err as Error).message, code: sqlState(err) }, attempt, retryInMs }, `cannot ${what}: retrying`),
    }).catch((err: unknown) => {
      if (!fatal(err)) throw err;
      throw new SluiceError(`cannot ${what}: ${(err as Error).message}`, { cause: err, context: { component: 'timescale' } });
    });
  }

  /** One transaction: the rows and the next offset, unless the batch was stored before; its dead letters are sent before the commit. */
  private async transaction(encoded: CopyRows, rows: Row[], source: SourcePartition & { nextOffset: string }, beforeCommit: (rejected: Rejected[]) => Promise<void>): Promise<void> {
    const c = await this.pool.connect();
    const rejected: Rejected[] = [];
    try {
      await c.query('BEGIN');
      if (!this.keepOffsets) {
        if (rows.length > 0) await this.load(c, encoded, rows, false, rejected);
        await beforeCommit(rejected);
        await c.query('COMMIT');
        c.release();
        return;
      }
      const key = [this.group, this.table.name, source.topic, source.partition];
      const stored = await c.query(
        `SELECT next_offset::text AS o FROM ${OFFSETS_TABLE} WHERE consumer_group = $1 AND target_table = $2 AND topic = $3 AND partition = $4 FOR UPDATE`, key);
      const at = stored.rows[0]?.o as string | undefined;
      if (at !== undefined && BigInt(at) >= BigInt(source.nextOffset)) {
        await c.query('ROLLBACK');
        c.release();
        this.log.info({ topic: source.topic, partition: source.partition, stored: at, nextOffset: source.nextOffset }, `${this.table.name}: batch stored before, skipped`);
        return;
      }
      if (rows.length > 0) await this.load(c, encoded, rows, false, rejected);
      await c.query(storeOffsetSql, [...key, source.nextOffset]);
      await beforeCommit(rejected);
      await c.query('COMMIT');
      c.release();
      faultPoint('timescale.committed'); // killed here, the batch is stored and its Kafka offset is not
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      c.release(err as Error);
      throw err;
    }
  }

  /**
   * COPY `rows` under a savepoint. A duplicate key (when the table has a conflict key) retries them
   * through a staged upsert: plain COPY speed until a redelivered row shows up. A row error splits
   * them in halves until the bad rows stand alone.
   */
  private async load(c: pg.PoolClient, encoded: CopyRows, rows: Row[], staged: boolean, rejected: Rejected[]): Promise<void> {
    await c.query('SAVEPOINT sluice_load');
    try {
      if (staged) await this.upsert(c, encoded, rows);
      else await this.copy(c, quote(this.table.name), encoded, rows);
      await c.query('RELEASE SAVEPOINT sluice_load');
      return;
    } catch (err) {
      const state = sqlState(err);
      if (!rowErrorClass.test(state)) throw err;
      await c.query('ROLLBACK TO SAVEPOINT sluice_load; RELEASE SAVEPOINT sluice_load');
      if (state === '23505' && this.table.conflict && !staged) return this.load(c, encoded, rows, true, rejected);
      if (rows.length === 1) {
        rejected.push({ record: rows[0]!.item, reason: 'rejected', error: new Error(`${this.table.name}: ${(err as Error).message}`) });
        return;
      }
    }
    const half = rows.length >>> 1;
    await this.load(c, encoded, rows.slice(0, half), staged, rejected);
    await this.load(c, encoded, rows.slice(half), staged, rejected);
  }

  /** COPY of `rows`: a slice of the batch's rows when they follow each other in it (the usual case), else their rows joined. */
  private async copy(c: pg.PoolClient, target: string, encoded: CopyRows, rows: readonly Row[]): Promise<void> {
    const first = rows[0]!.index;
    const contiguous = rows.every((r, k) => r.index === first + k);
    const bytes = contiguous ? encoded.slice(first, first + rows.length) : Buffer.concat(rows.map((r) => encoded.slice(r.index, r.index + 1)));
    const size = 256 << 10;
    async function* feed() {
      yield COPY_HEADER;
      for (let at = 0; at < bytes.length; at += size) {
        yield bytes.subarray(at, at + size);
        if (at === 0) faultPoint('timescale.copy'); // killed here, the COPY is half sent and never committed
      }
      yield COPY_TRAILER;
    }
    await pipeline(Readable.from(feed()), c.query(copyFrom(`COPY ${target} (${this.columns}) FROM STDIN (FORMAT binary)`)));
  }

  private async upsert(c: pg.PoolClient, encoded: CopyRows, rows: Row[]): Promise<void> {
    // Every name below is a quoted identifier of the validated table spec.
    const { conflict, name } = this.table;
    const [table, tableStage, columns] = [quote(name), this.stage, this.columns];
    await c.query(`CREATE TEMP TABLE IF NOT EXISTS ${tableStage} (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
    await c.query(`TRUNCATE ${tableStage}`);
    // DO UPDATE refuses to touch a row twice in one statement; DO NOTHING skips repeats by itself.
    const keyed = conflict!.action === 'update' ? rows.map((r) => ({ ...r, key: keyOf(this.table, encoded.slice(r.index, r.index + 1)) })) : undefined;
    await this.copy(c, this.stage, encoded, keyed ? dedupe(this.table, keyed) : rows);
    const columnsKey = conflict!.key.map(quote).join(', ');
    const rest = this.table.columns.filter((col) => !conflict!.key.includes(col.name));
    const action = conflict!.action === 'nothing' || rest.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${rest.map((col) => `${quote(col.name)} = EXCLUDED.${quote(col.name)}`).join(', ')}`;
    await c.query(`INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${tableStage} ON CONFLICT (${columnsKey}) ${action}`);
  }
}
