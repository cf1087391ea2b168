/** A reading as it goes to Kafka: the SensorReading Avro record (schemas/sensor-readings.avsc). */
import type { Reading as SensorReading } from '../../schemas/records.ts';

export type { SensorReading };

/** Why a message was set aside; these are the `sluice.reason` header values and metric labels. */
export type RejectReason =
  | 'empty' | 'too-large' | 'invalid-utf8' | 'not-a-number' | 'non-finite' | 'wrong-type' | 'forbidden-key'
  | 'topic-mismatch' | 'bad-device-id' | 'bad-sensor-type' | 'time-in-future' | 'time-too-old';

export type ParseResult = { ok: true; reading: SensorReading } | { ok: false; reason: RejectReason; message: string };

export interface ParseLimits {
  /** Largest payload accepted, in bytes. */
  maxPayloadBytes: number;
  /** How far an event time may lie ahead of the receive time, in ms. */
  maxFutureMs: number;
}

/** A compiled topic template such as `sensors/{device_id}/{sensor_type}`. */
export interface TopicTemplate {
  readonly text: string;
  readonly segments: readonly string[];
  /** Topics met lately and what they gave: a fleet publishes on the same topics over and over. */
  readonly seen: Map<string, TopicIds | Reject>;
}

interface TopicIds {
  device_id: string;
  sensor_type: string;
}

/** Topics remembered per template; past this the memory starts again. */
const SEEN_TOPICS = 10_000;

const fields = ['{device_id}', '{sensor_type}'];

/** Validates a template: `/`-separated literals and exactly one `{device_id}` and one `{sensor_type}`. */
export function compileTemplate(text: string): TopicTemplate {
  const segments = text.split('/');
  for (const f of fields) {
    if (segments.filter((s) => s === f).length !== 1) throw new Error(`MQTT_TOPIC_TEMPLATE must contain ${f} exactly once as a whole level, got ${JSON.stringify(text)}`);
  }
  if (segments.some((s) => !fields.includes(s) && /[{}+#]/.test(s))) {
    throw new Error(`MQTT_TOPIC_TEMPLATE may hold only literal levels, {device_id} and {sensor_type}, got ${JSON.stringify(text)}`);
  }
  return { text, segments, seen: new Map() };
}

/**
 * The subscription filter a template implies: its literal levels before the first field, then `#`
 * (`sensors/#`), so that a topic that does not fit the template still arrives and is dead-lettered
 * (`topic-mismatch`) instead of vanishing unseen.
 */
export function templateFilter(t: TopicTemplate): string {
  const first = t.segments.findIndex((s) => fields.includes(s));
  return [...t.segments.slice(0, first), '#'].join('/');
}

/** Device ids and sensor types: letters, digits and `_ . : -`, 1 to 64 characters. */
const safeId = /^[A-Za-z0-9_.:-]{1,64}$/;
const bareNumber = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const nonFinite = /^[+-]?(nan|inf|infinity)$/i;
/** 2000-01-01T00:00:00Z: readings before it are clock errors. */
export const MIN_TIME = Date.UTC(2000, 0, 1);

export const DEFAULT_UNITS: Readonly<Record<string, string>> = { temperature: '°C', humidity: '%', pressure: 'hPa', co2: 'ppm' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reject extends Error {
  readonly reason: RejectReason;
  constructor(reason: RejectReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

function matchTopic(template: TopicTemplate, topic: string): TopicIds {
  let ids = template.seen.get(topic);
  if (ids === undefined) {
    try {
      ids = matchNewTopic(template, topic);
    } catch (err) {
      if (!(err instanceof Reject)) throw err;
      ids = err;
    }
    if (template.seen.size >= SEEN_TOPICS) template.seen.clear();
    template.seen.set(topic, ids);
  }
  if (ids instanceof Reject) throw ids;
  return ids;
}

function matchNewTopic(template: TopicTemplate, topic: string): TopicIds {
  const levels = topic.split('/');
  const { segments } = template;
  let device = '';
  let sensor = '';
  let fits = levels.length === segments.length;
  for (let i = 0; fits && i < segments.length; i++) {
    if (segments[i] === '{device_id}') device = levels[i]!;
    else if (segments[i] === '{sensor_type}') sensor = levels[i]!;
    else fits = segments[i] === levels[i];
  }
  if (!fits) throw new Reject('topic-mismatch', `topic ${JSON.stringify(topic.slice(0, 200))} does not fit the template ${template.text}`);
  if (!safeId.test(device)) throw new Reject('bad-device-id', `device id ${JSON.stringify(device.slice(0, 80))} must match ${safeId}`);
  if (!safeId.test(sensor)) throw new Reject('bad-sensor-type', `sensor type ${JSON.stringify(sensor.slice(0, 80))} must match ${safeId}`);
  return { device_id: device, sensor_type: sensor };
}

function parseNumber(text: string): number {
  const t = text.trim();
  if (bareNumber.test(t)) return finite(Number(t));
  if (nonFinite.test(t)) throw new Reject('non-finite', `value must be a finite number, got ${JSON.stringify(t)}`);
  throw new Reject('not-a-number', `payload is neither a number nor a JSON object: ${JSON.stringify(t.slice(0, 80))}`);
}

function finite(n: number): number {
  if (!Number.isFinite(n)) throw new Reject('non-finite', `value must be a finite number, got ${n}`);
  return n;
}

function parseTime(t: unknown): number {
  if (typeof t === 'number' && Number.isFinite(t)) return Math.round(t);
  // ISO-8601 with a date and, if it has a time, a zone: a zone-less time would be read as local time.
  if (typeof t === 'string' && /^\d{4}-\d\d-\d\d(T[^Zz+-]+([Zz]|[+-]\d\d:?\d\d))?$/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new Reject('wrong-type', `time must be ISO-8601 with a timezone or epoch ms, got ${JSON.stringify(t)?.slice(0, 80)}`);
}

const iso = (t: number) => (Number.isFinite(new Date(t).getTime()) ? new Date(t).toISOString() : `${t} ms`);

const forbidden = new Set(['__proto__', 'constructor', 'prototype']);

/** A key can only be forbidden when the text holds its name or an escape that could spell it. */
const mayHideForbidden = /__proto__|constructor|prototype|\\/;

function parseJson(text: string): { value: number; time?: number; unit?: string } {
  let doc: unknown;
  try {
    // A reviver slows JSON.parse several times over: it runs only when a forbidden key is possible.
    doc = !mayHideForbidden.test(text) ? JSON.parse(text) : JSON.parse(text, (k, v: unknown) => {
      if (forbidden.has(k)) throw new Reject('forbidden-key', `JSON key ${JSON.stringify(k)} is not allowed`);
      return v;
    });
  } catch (err) {
    if (err instanceof Reject) throw err;
    throw new Reject('not-a-number', `payload is neither a number nor valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Reject('wrong-type', 'JSON payload must be an object with a numeric "value"');
  const { value, time, unit } = doc as Record<string, unknown>;
  if (typeof value !== 'number') throw new Reject('wrong-type', `"value" must be a JSON number, got ${typeof value}`);
  if (unit !== undefined && (typeof unit !== 'string' || unit.length > 32)) throw new Reject('wrong-type', '"unit" must be a string of at most 32 characters');
  return { value: finite(value), time: time === undefined ? undefined : parseTime(time), unit };
}

/**
 * Turns one MQTT message into a reading, or says why it cannot be one. Pure: `receivedAt` is the
 * receive time (ms), used as event time when the payload carries none (`time_source: 'connector'`;
 * the connector then makes it unique, see ConnectorClock).
 * @example parseReading(compileTemplate('sensors/{device_id}/{sensor_type}'), 'sensors/d1/temperature', Buffer.from('22.5'), Date.now(), limits)
 */
export function parseReading(template: TopicTemplate, topic: string, payload: Buffer, receivedAt: number, limits: ParseLimits): ParseResult {
  try {
    const ids = matchTopic(template, topic);
    if (payload.length === 0) throw new Reject('empty', 'payload is empty');
    if (payload.length > limits.maxPayloadBytes) throw new Reject('too-large', `payload is ${payload.length} bytes, the limit is ${limits.maxPayloadBytes} bytes`);
    let text: string;
    try {
      text = utf8.decode(payload);
    } catch {
      throw new Reject('invalid-utf8', 'payload is not valid UTF-8');
    }
    const body = /^\s*[[{"]/.test(text) ? parseJson(text) : { value: parseNumber(text) };
    const time = body.time ?? receivedAt;
    if (time < MIN_TIME) throw new Reject('time-too-old', `time ${iso(time)} is before 2000-01-01`);
    if (time > receivedAt + limits.maxFutureMs) throw new Reject('time-in-future', `time ${iso(time)} is more than ${limits.maxFutureMs} ms ahead of the receive time`);
    const unit = body.unit ?? DEFAULT_UNITS[ids.sensor_type] ?? '';
    const time_source = body.time === undefined ? 'connector' : 'device';
    return { ok: true, reading: { ...ids, value: body.value, unit, time, ingest_time: receivedAt, time_us: 0, time_source } };
  } catch (err) {
    if (err instanceof Reject) return { ok: false, reason: err.reason, message: err.message };
    throw err;
  }
}
