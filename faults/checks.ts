// The end checks of the end-to-end fault suite: after a run (faults injected, pipeline drained) they
// compare what the simulated devices sent and got a PUBACK for with what every sink holds.
// The comparisons are pure functions of plain rows (tested in checks.test.ts); checkPipeline reads
// the rows from the simulator's log, PostgreSQL, the dead-letter topic and the archive.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { connectKafka, type RawRecord } from '../core/kafka/adapter.ts';
import { DLQ_TOPIC } from '../core/naming.ts';
import { DLQ_HEADERS } from '../core/runtime/dlq.ts';
import { createLogger } from '../core/log.ts';
import { loadConfig, type Env } from '../core/config.ts';
import { SluiceError } from '../core/errors.ts';
import { readSimLog, type SentBad, type SentLine, type SentReading } from '../connectors/mqtt/simlog.ts';
import { archiveSchema, destinationOf } from '../sinks/archive/archive-settings.ts';
import { compare } from '../sinks/archive/table.ts';

const HOUR = 3_600_000;
/** The threshold rule of topologies/alerting/rules.ts (`${sensorType}-high` for temperature). */
export const THRESHOLD_RULE = 'temperature-high';

export type CheckRow = { check: string; expected: string; found: string; ok: boolean };

// --- The simulator's log (connectors/mqtt/simlog.ts) ------------------------------------------

/** What the checks need of the simulator's log: readSimLog's result. */
export interface RunLog {
  /** Every published message, by seq. */
  sent: ReadonlyMap<number, SentLine>;
  /** Seqs that got a PUBACK. */
  acked: ReadonlySet<number>;
}

const readingsOf = (log: RunLog) => [...log.sent.values()].filter((m): m is SentReading => m.kind === 'reading');

// --- Helpers for the found column ------------------------------------------------------------

/** Values are unique per (device, sensor) over a run: this key names one sent reading. */
const readingKey = (device: string, sensor: string, value: number) => `${device}\u0000${sensor}\u0000${value}`;

/** `a, b, c (+4 more)`: enough examples to start looking, not a wall of numbers. */
function sample(items: readonly (string | number)[], max = 3): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} (+${items.length - max} more)` : shown;
}

/** `empty 2, not-a-number 5` (sorted), or `none`. */
function byReason(reasons: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts.size === 0 ? 'none' : [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([r, n]) => `${r} ${n}`).join(', ');
}

const count = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

// --- 1. readings -----------------------------------------------------------------------------

/** A row of sensor_data; `time_us` is its time in µs since the epoch, as text (exact). */
export interface StoredReading {
  device_id: string;
  sensor_type: string;
  value: number;
  time_us: string;
  time_source: string | null;
}

/** JSON readings keep the device's time (to the µs: ms × 1000); bare ones are timed by the connector. */
function timedAsSent(m: SentReading, r: StoredReading): boolean {
  if (m.time === null) return r.time_source === 'connector';
  return r.time_source === 'device' && r.time_us === String(BigInt(Math.round(m.time)) * 1000n);
}

/** Every acked reading stored exactly once, with its time as sent; no row the simulator did not send. */
export function checkReadings(log: RunLog, rows: readonly StoredReading[]): CheckRow {
  const sent = new Map<string, SentReading>();
  for (const m of readingsOf(log)) sent.set(readingKey(m.device, m.sensor, m.value), m);
  const stored = new Map<string, number>();
  let unknown = 0;
  const wrongTime: number[] = [];
  for (const r of rows) {
    const k = readingKey(r.device_id, r.sensor_type, r.value);
    count(stored, k);
    const m = sent.get(k);
    if (!m) unknown++;
    else if (stored.get(k) === 1 && !timedAsSent(m, r)) wrongTime.push(m.seq);
  }
  const lost: number[] = [];
  let acked = 0;
  let unacked = 0;
  let unackedStored = 0;
  for (const [k, m] of sent) {
    if (log.acked.has(m.seq)) {
      acked++;
      if (!stored.has(k)) lost.push(m.seq);
    } else {
      unacked++;
      if (stored.has(k)) unackedStored++;
    }
  }
  const twice = [...stored.values()].filter((n) => n > 1).length;
  const found = [
    `${rows.length} rows`, `lost ${lost.length}${lost.length ? ` (seq ${sample(lost)})` : ''}`, `twice ${twice}`, `unknown ${unknown}`,
    `time wrong ${wrongTime.length}${wrongTime.length ? ` (seq ${sample(wrongTime)})` : ''}`,
    `sent not acked: ${unackedStored} of ${unacked} stored`,
  ].join(', ');
  const ok = lost.length === 0 && twice === 0 && unknown === 0 && wrongTime.length === 0;
  return { check: 'readings', expected: `${acked} acked readings, each once, time as sent; no unknown row`, found, ok };
}

// --- 2. archive ------------------------------------------------------------------------------

/** The archive's rows per hour (label `YYYY-MM-DDTHH`) against sensor_data's: no hour differs, no offset archived twice. */
export function checkArchive(archive: { byHour: Map<string, number>; duplicates: number; files: number }, table: Map<string, number>, hours: string): CheckRow {
  const rows = compare(archive.byHour, table);
  const differing = rows.filter((r) => r.archive !== r.table);
  const found = `${rows.length} hours (${archive.files} files), ${differing.length} differing${differing.length ? ` (${sample(differing.map((r) => `${r.hour}:00 archive ${r.archive} vs sensor_data ${r.table}`))})` : ''}, ${archive.duplicates} archived twice`;
  return { check: 'archive', expected: `closed hours ${hours}: 0 differing, 0 archived twice`, found, ok: differing.length === 0 && archive.duplicates === 0 };
}

// --- 3. hourly -------------------------------------------------------------------------------

/** One (device, sensor, UTC hour) of statistics; `hour` is the hour's start in ms. */
export interface HourStats {
  hour: number;
  device_id: string;
  sensor_type: string;
  count: number;
  sum: number;
  min_value: number;
  max_value: number;
  avg_value: number;
}

/** Sums in another order differ in the last bits: relative tolerance for sum and avg, exact for the rest. */
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** The fields in which a stats row differs from its recomputation, as `count 59 vs 60`. */
function differences(a: HourStats, b: HourStats): string[] {
  const exact = (['count', 'min_value', 'max_value'] as const).filter((f) => a[f] !== b[f]);
  const rounded = (['sum', 'avg_value'] as const).filter((f) => !close(a[f], b[f]));
  return [...exact, ...rounded].map((f) => `${f} ${a[f]} vs ${b[f]}`);
}

const statsKey = (s: HourStats) => `${s.device_id}/${s.sensor_type} ${new Date(s.hour).toISOString().slice(0, 13)}:00`;

/**
 * sensor_stats_hourly against the same statistics recomputed from sensor_data: every stats row
 * equals its recomputation, and every (device, sensor, hour) that ended by `to` has a stats row.
 */
export function checkHourly(stats: readonly HourStats[], recomputed: readonly HourStats[], to: Date): CheckRow {
  const truth = new Map(recomputed.map((s) => [statsKey(s), s]));
  const have = new Set(stats.map(statsKey));
  const extra: string[] = [];
  const differing: string[] = [];
  for (const s of stats) {
    const t = truth.get(statsKey(s));
    if (!t) extra.push(statsKey(s));
    else if (differences(s, t).length > 0) differing.push(`${statsKey(s)}: ${differences(s, t).join(' ')}`);
  }
  const closed = recomputed.filter((s) => s.hour + HOUR <= to.getTime());
  const missing = closed.filter((s) => !have.has(statsKey(s))).map(statsKey);
  const part = (what: string, list: string[]) => `${what} ${list.length}${list.length ? ` (${sample(list)})` : ''}`;
  return {
    check: 'hourly',
    expected: `${stats.length} stats rows equal to sensor_data; a row for each of ${closed.length} closed (device, sensor, hour)`,
    found: [part('missing', missing), part('extra', extra), part('differing', differing)].join(', '),
    ok: missing.length === 0 && extra.length === 0 && differing.length === 0,
  };
}

// --- 4. alerts -------------------------------------------------------------------------------

/** A row of the alerts table (of the rule checked); `value` is the value of the reading that opened it. */
export interface StoredAlert {
  id: string;
  device_id: string;
  sensor_type: string;
  value: number | null;
}

/**
 * One alert per anomaly episode with a stored anomaly reading. An alert's value names the reading
 * that opened it (values are unique), and so its episode.
 */
export function checkAlerts(log: RunLog, readings: readonly StoredReading[], alerts: readonly StoredAlert[], rule = THRESHOLD_RULE): CheckRow {
  const stored = new Set(readings.map((r) => readingKey(r.device_id, r.sensor_type, r.value)));
  const episodeOf = new Map<string, string>();
  const expected = new Map<string, string>(); // episode → device
  for (const m of readingsOf(log)) {
    if (m.episode === undefined) continue;
    const k = readingKey(m.device, m.sensor, m.value);
    // Keyed by device and sensor too, in case the simulator numbers episodes per device.
    const episode = `${m.device}\u0000${m.sensor}\u0000${m.episode}`;
    episodeOf.set(k, episode);
    if (stored.has(k)) expected.set(episode, m.device);
  }
  const alertsOf = new Map<string, number>();
  const unmatched: StoredAlert[] = [];
  for (const a of alerts) {
    const episode = a.value === null ? undefined : episodeOf.get(readingKey(a.device_id, a.sensor_type, a.value));
    if (episode === undefined || !expected.has(episode)) unmatched.push(a);
    else count(alertsOf, episode);
  }
  const missed = [...expected.keys()].filter((e) => !alertsOf.has(e));
  const twice = [...alertsOf].filter(([, n]) => n > 1).map(([e]) => e);
  const differ = new Set([...missed, ...twice].map((e) => expected.get(e)!).concat(unmatched.map((a) => a.device_id)));
  const perDevice = (device: string) => {
    const want = [...expected.values()].filter((d) => d === device).length;
    return `${device} (expected ${want}, found ${alerts.filter((a) => a.device_id === device).length})`;
  };
  const found = [`${alerts.length} alerts`, `missed ${missed.length}`, `twice ${twice.length}`, `unmatched ${unmatched.length}${unmatched.length ? ` (${sample(unmatched.map((a) => a.id))})` : ''}`]
    .join(', ') + (differ.size ? `; devices: ${sample([...differ].sort().map(perDevice))}` : '');
  return { check: 'alerts', expected: `${expected.size} ${rule} alerts, one per stored anomaly episode`, found, ok: differ.size === 0 };
}

// --- 5. dlq ----------------------------------------------------------------------------------

/** A record of sluice.dlq as read (its headers say origin and reason). */
export type DeadLetter = Pick<RawRecord, 'offset' | 'headers' | 'value'>;

/** What names a bad message in both places: its MQTT topic and its payload's size and digest. */
const payloadKey = (topic: string, bytes: number, sha256: string) => `${topic}\u0000${bytes}\u0000${sha256}`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function sentKey(m: SentBad): string {
  if (m.payload === undefined) return payloadKey(m.topic, m.bytes ?? -1, m.sha256 ?? '');
  const body = Buffer.from(m.payload, 'utf8');
  return payloadKey(m.topic, body.length, sha256(body));
}

/** Ingest keeps the payload whole, or its first 64 KiB plus the whole one's size and digest in headers. */
function recordKey(r: DeadLetter): string {
  const h = r.headers;
  const topic = h[DLQ_HEADERS.topic] ?? '';
  if (h['sluice.payload.sha256'] !== undefined) return payloadKey(topic, Number(h['sluice.payload.bytes']), h['sluice.payload.sha256']);
  const body = r.value ?? Buffer.alloc(0); // an empty payload may come back as a null value
  return payloadKey(topic, body.length, sha256(body));
}

/** The run's dead letters: ingest's from its MQTT topics, and the topologies' from its readings topic. */
export function runDeadLetters(records: readonly DeadLetter[], run: { mqttPrefix: string; readingsTopic: string }): DeadLetter[] {
  const prefix = run.mqttPrefix.replace(/\/+$/, '');
  return records.filter((r) => {
    const origin = r.headers[DLQ_HEADERS.topic] ?? '';
    if (origin === run.readingsTopic) return true;
    return r.headers[DLQ_HEADERS.topology] === 'ingest' && (origin === prefix || origin.startsWith(`${prefix}/`));
  });
}

/** The run's dead letters are exactly the bad messages: each acked one once, with its expected reason. */
export function checkDeadLetters(log: RunLog, records: readonly DeadLetter[], run: { mqttPrefix: string; readingsTopic: string }): CheckRow {
  const mine = runDeadLetters(records, run);
  // Per payload key, the bad messages still owed a record; acked first, as they must be there.
  const owed = new Map<string, SentBad[]>();
  const bad = [...log.sent.values()].filter((m): m is SentBad => m.kind === 'bad');
  for (const m of bad) owed.set(sentKey(m), [...(owed.get(sentKey(m)) ?? []), m]);
  for (const list of owed.values()) list.sort((a, b) => Number(log.acked.has(b.seq)) - Number(log.acked.has(a.seq)));
  const extra: string[] = [];
  const wrong: string[] = [];
  let twice = 0;
  let unackedFound = 0;
  for (const r of mine) {
    const reason = r.headers[DLQ_HEADERS.reason] ?? '(none)';
    const k = r.headers[DLQ_HEADERS.topic] === run.readingsTopic ? undefined : recordKey(r);
    const list = k === undefined ? undefined : owed.get(k);
    if (!list) {
      extra.push(reason);
      continue;
    }
    if (list.length === 0) {
      twice++;
      continue;
    }
    const i = Math.max(0, list.findIndex((m) => m.reason === reason));
    const [m] = list.splice(i, 1);
    if (m!.reason !== reason) wrong.push(`seq ${m!.seq}: ${reason}, expected ${m!.reason}`);
    if (!log.acked.has(m!.seq)) unackedFound++;
  }
  const lost = [...owed.values()].flat().filter((m) => log.acked.has(m.seq)).map((m) => m.seq);
  const acked = bad.filter((m) => log.acked.has(m.seq));
  const found = [
    `${mine.length} records: ${byReason(mine.map((r) => r.headers[DLQ_HEADERS.reason] ?? '(none)'))}`,
    `lost ${lost.length}${lost.length ? ` (seq ${sample(lost)})` : ''}`, `twice ${twice}`,
    `wrong reason ${wrong.length}${wrong.length ? ` (${sample(wrong)})` : ''}`,
    `extra ${extra.length}${extra.length ? ` (${byReason(extra)})` : ''}`,
    `sent not acked: ${unackedFound} of ${bad.length - acked.length} in the DLQ`,
  ].join('; ');
  const ok = lost.length === 0 && twice === 0 && wrong.length === 0 && extra.length === 0;
  return { check: 'dlq', expected: `${acked.length} acked bad messages, each once: ${byReason(acked.map((m) => m.reason))}`, found, ok };
}

// --- Tables ----------------------------------------------------------------------------------

const cell = (v: unknown) => (typeof v === 'boolean' ? (v ? 'ok' : 'FAIL') : String(v));

function cells<T extends object>(rows: readonly T[]): string[][] {
  const columns = rows[0] ? Object.keys(rows[0]) : ['check', 'expected', 'found', 'ok'];
  return [columns, ...rows.map((r) => columns.map((c) => cell((r as Record<string, unknown>)[c])))];
}

/** A plain text table, columns aligned, one line per row; booleans print as ok / FAIL. */
export function formatTable<T extends object>(rows: readonly T[]): string {
  const lines = cells(rows);
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The same table in Markdown (e.g. for a CI job summary). */
export function markdownTable<T extends object>(rows: readonly T[]): string {
  const [head, ...body] = cells(rows).map((l) => l.map((c) => c.replaceAll('|', '\\|').replaceAll('\n', ' ')));
  const line = (l: string[]) => `| ${l.join(' | ')} |`;
  return [line(head!), line(head!.map(() => '---')), ...body.map(line)].join('\n');
}

// --- Reading the sinks -----------------------------------------------------------------------

export interface CheckOptions {
  /** Path of the simulator's JSONL log. */
  simLog: string;
  pgUrl: string;
  kafkaBrokers: string[];
  /** sluice.dlq's end offsets per partition before the run: its records start there. */
  dlqFrom: ReadonlyMap<number, string>;
  /** The run's MQTT topic prefix (its devices publish under `<prefix>/`). */
  mqttPrefix: string;
  readingsTopic: string;
  /** The archive's settings as for bin/archive-verify: S3_BUCKET (or ARCHIVE_DIR), S3_*, ARCHIVE_PREFIX. */
  archive: Env;
  /** The run's event times: [from, to); hours that ended by `to` are closed. */
  from: Date;
  to: Date;
  /** Default THRESHOLD_RULE. */
  alertRule?: string;
}

const readingsSql = `SELECT device_id, sensor_type, value, (extract(epoch FROM time) * 1000000)::bigint::text AS time_us, time_source
  FROM sensor_data WHERE device_id = ANY($1) AND sensor_type = ANY($2)`;
const statsSql = `SELECT (extract(epoch FROM bucket) * 1000)::bigint::text AS hour, device_id, sensor_type, count::text AS count,
  sum, min_value, max_value, avg_value FROM sensor_stats_hourly`;
const recomputeSql = `SELECT (floor(extract(epoch FROM time) / 3600) * 3600000)::bigint::text AS hour, device_id, sensor_type, count(*)::text AS count,
  sum(value) AS sum, min(value) AS min_value, max(value) AS max_value, avg(value) AS avg_value FROM sensor_data GROUP BY 1, 2, 3`;
const alertsSql = 'SELECT id, device_id, sensor_type, value FROM alerts WHERE rule = $1';

type StatsText = Omit<HourStats, 'hour' | 'count'> & { hour: string; count: string };
const statsOf = (rows: StatsText[]): HourStats[] => rows.map((r) => ({ ...r, hour: Number(r.hour), count: Number(r.count) }));

/**
 * sluice.dlq's records from `dlqFrom` on. The adapter reads a topic from its start or its tail
 * only: the tail of every partition as long as the longest since `dlqFrom`, cut at `dlqFrom`.
 */
async function readDeadLetters(o: CheckOptions): Promise<DeadLetter[]> {
  const kafka = await connectKafka(o.kafkaBrokers, 'sluice-fault-checks', createLogger('fault-checks', 'warn', 'stderr'));
  try {
    const start = (p: number) => BigInt(o.dlqFrom.get(p) ?? '0');
    const tail = Math.max(0, ...(await kafka.watermarks(DLQ_TOPIC)).map((w) => Number(BigInt(w.high) - start(w.partition))));
    const records: DeadLetter[] = [];
    if (tail > 0) {
      await kafka.readTail(DLQ_TOPIC, tail, (partition, batch) => {
        for (const r of batch) if (BigInt(r.offset) >= start(partition)) records.push(r);
      });
    }
    return records;
  } catch (err) {
    throw new SluiceError(`reading ${DLQ_TOPIC}: ${(err as Error).message}`, { cause: err });
  } finally {
    await kafka.close();
  }
}

async function archiveCheck(o: CheckOptions): Promise<CheckRow> {
  // Hours still open may not be uploaded yet: only those that ended by `to`.
  const to = new Date(Math.floor(o.to.getTime() / HOUR) * HOUR);
  const hours = `${o.from.toISOString()} to ${to.toISOString()}`;
  if (to <= o.from) return { check: 'archive', expected: `closed hours ${hours}`, found: 'no closed hour to verify', ok: true };
  const cfg = loadConfig(archiveSchema, o.archive);
  // verify.ts loads hyparquet, which is ESM only: imported when used, so jest (CommonJS) can load this file.
  const { countArchive, countTable } = await import('../sinks/archive/verify.ts');
  const [archive, table] = await Promise.all([countArchive(destinationOf(cfg), cfg.ARCHIVE_PREFIX, o.from, to), countTable(o.pgUrl, o.from, to)]);
  return checkArchive(archive, table, hours);
}

/** A check that could not run is a failed row saying why; the others still run. */
async function attempt(check: string, run: () => Promise<CheckRow>): Promise<CheckRow> {
  try {
    return await run();
  } catch (err) {
    return { check, expected: 'the check to run', found: `error: ${(err as Error).message}`, ok: false };
  }
}

/** readings, hourly and alerts: one query at a time on one connection (pg deprecates queued queries). */
async function databaseChecks(o: CheckOptions, log: RunLog): Promise<{ readings: CheckRow; hourly: CheckRow; alerts: CheckRow }> {
  const readings = readingsOf(log);
  const devices = [...new Set(readings.map((m) => m.device))];
  const sensors = [...new Set(readings.map((m) => m.sensor))];
  const rule = o.alertRule ?? THRESHOLD_RULE;
  const client = new pg.Client({ connectionString: o.pgUrl });
  client.on('error', () => undefined); // a dropped connection fails the queries, which report it
  const connecting = client.connect();
  try {
    let stored: StoredReading[] | undefined;
    return {
      readings: await attempt('readings', async () => {
        await connecting;
        stored = (await client.query<StoredReading>(readingsSql, [devices, sensors])).rows;
        return checkReadings(log, stored);
      }),
      hourly: await attempt('hourly', async () => {
        await connecting;
        const stats = (await client.query<StatsText>(statsSql)).rows;
        return checkHourly(statsOf(stats), statsOf((await client.query<StatsText>(recomputeSql)).rows), o.to);
      }),
      alerts: await attempt('alerts', async () => {
        if (!stored) throw new Error('sensor_data could not be read (see readings)');
        return checkAlerts(log, stored, (await client.query<StoredAlert>(alertsSql, [rule])).rows, rule);
      }),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs the five end checks and returns one row each: readings, archive, hourly, alerts, dlq. A check
 * that cannot read its sink fails with the error as its `found`; the others still run.
 * @example console.log(formatTable(await checkPipeline({ simLog: 'run/sim.jsonl', pgUrl, kafkaBrokers, dlqFrom, mqttPrefix: 'run-42', readingsTopic: 'run-42-readings', archive: process.env, from, to })))
 */
export async function checkPipeline(o: CheckOptions): Promise<CheckRow[]> {
  const log: RunLog = readSimLog(o.simLog);
  const [db, archive, dlq] = await Promise.all([
    databaseChecks(o, log),
    attempt('archive', () => archiveCheck(o)),
    attempt('dlq', async () => checkDeadLetters(log, await readDeadLetters(o), o)),
  ]);
  return [db.readings, archive, db.hourly, db.alerts, dlq];
}

/** The archive against sensor_data over every hour of the run: after the drain the archiver has uploaded (and committed) every file. */
export async function archiveWholeRun(env: Record<string, string | undefined>, url: string, from: Date): Promise<CheckRow> {
  const hour = 3_600_000;
  const to = new Date(Math.ceil((Date.now() + 1) / hour) * hour);
  const cfg = loadConfig(archiveSchema, env);
  // Imported when used, as in archiveCheck: hyparquet is ESM only.
  const { countArchive, countTable } = await import('../sinks/archive/verify.ts');
  const row = checkArchive(await countArchive(destinationOf(cfg), cfg.ARCHIVE_PREFIX, from, to), await countTable(url, from, to), '');
  return { ...row, check: 'archive, open hour too', expected: `every hour from ${from.toISOString()}: 0 differing, 0 archived twice` };
}
