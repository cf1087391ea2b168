import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions } from 'mqtt';
import { ConfigError } from '../../core/component.ts';
import type { ParseLimits, RejectReason } from './parse.ts';
import { openSimLog, payloadFields, type SentLine } from './simlog.ts';

export type SimulateFormat = 'bare' | 'json' | 'mixed';

export interface SimulateOptions {
  broker: string;
  /** Connection options (credentials, TLS). */
  connect?: IClientOptions;
  devices: number;
  sensors: string[];
  /** Messages per second, over all devices. */
  rate: number;
  /** Messages in all, bad ones included. */
  count: number;
  /** Stops publishing early (Ctrl-C); what was published is still waited for and counted. */
  signal?: AbortSignal;
  qos: 0 | 1;
  /** `mixed`: each (device, sensor) pair keeps one format, see jsonPair. */
  format: SimulateFormat;
  /** Share of temperature readings that spike above `threshold`, 0 to 1 (with `mixed`, of JSON pairs only). */
  anomalies: number;
  threshold: number;
  /** Topic prefix: readings go to `<prefix>/<device>/<sensor>`. */
  prefix: string;
  /** Anomaly episodes spread evenly over the run (EpisodePlanner); 0 for none. */
  episodes?: number;
  /** Least device time between two episodes of one device, ms (30000). */
  episodeGapMs?: number;
  /** Known bad messages spread evenly over the run, going through BAD_KINDS in turn; 0 for none. */
  bad?: number;
  /** What ingest accepts (INGEST_MAX_PAYLOAD_BYTES, INGEST_MAX_FUTURE_MS): bad messages lie just past it. */
  limits?: ParseLimits;
  /** JSONL log of what was sent and acknowledged (simlog.ts); with it every value is unique (uniqueValue). */
  log?: string;
  /** How long to wait for outstanding PUBACKs once publishing ends, ms (30000). */
  ackWaitMs?: number;
}

export interface SimulateResult {
  sent: number;
  pubacks: number;
  /** QoS 1 messages still without a PUBACK when the wait for them ended. */
  unacked: number;
  anomalies: number;
  /** Episodes whose three readings were all sent. */
  episodes: number;
  bad: number;
  /** Connections to the broker after the first. */
  reconnects: number;
  seconds: number;
}

export const simulateUsage = `usage: bin/simulate-devices [options]

Publishes sensor readings like a fleet of devices and prints the achieved rate and PUBACK count.
It rides out broker restarts: unacknowledged QoS 1 messages are sent again on reconnect.

  --devices <n>       devices (10)
  --sensors <list>    sensor types, comma-separated (temperature,humidity,pressure,co2)
  --rate <n>          messages per second over all devices (100)
  --count <n>         messages in all, bad ones included (default: rate × duration)
  --duration <s>      seconds (10); SIGINT or SIGTERM stops it early, with its summary
  --qos <0|1>         (1)
  --format <f>        bare (22.5), json ({"value":22.5,"time":"…"}) or mixed: device i's sensor j
                      (from 0, in --sensors order) is JSON when i + j is even, else bare (bare)
  --anomalies <p>     share of temperature readings above ALERT_THRESHOLD (0); with mixed, JSON ones only
  --episodes <n>      anomaly episodes spread over the run: 3 temperature readings in a row of one
                      JSON device above ALERT_THRESHOLD, then normal again; devices take turns (0)
  --episode-gap-ms <ms>
                      least device time between two episodes of one device (30000)
  --bad <n>           known bad messages spread over the run, one kind after another, each with the
                      dead-letter reason ingest gives it (0)
  --log <file>        appends a JSON line per message sent and per PUBACK; values become unique
  --prefix <p>        topic prefix (sensors)
  --broker <url>      (MQTT_BROKER, else mqtt://127.0.0.1:1883)

Environment: MQTT_BROKER, ALERT_THRESHOLD (35), INGEST_MAX_PAYLOAD_BYTES (4096) and
INGEST_MAX_FUTURE_MS (300000) as ingest has them, MQTT_USERNAME, MQTT_PASSWORD, MQTT_CA_FILE,
MQTT_CERT_FILE, MQTT_KEY_FILE.`;

/** Message numbers go into the values' last 7 decimals (uniqueValue). */
const MAX_LOGGED_COUNT = 1e7 - 1;

/** `bin/simulate-devices`'s options (every one a string, as parsed) and environment → SimulateOptions; ConfigError names a bad one. */
export function simulateOptionsFrom(v: Record<string, string | undefined>, env: Record<string, string | undefined> = process.env): SimulateOptions {
  const num = (name: string, text: string | undefined, def: number, min: number, max: number) => {
    const n = text === undefined ? def : Number(text);
    if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
  const oneOf = <T extends string>(name: string, text: string | undefined, values: readonly T[], def: T): T => {
    if (text === undefined) return def;
    if (!values.includes(text as T)) throw new ConfigError(`${name} must be ${values.join(' or ')}, got ${JSON.stringify(text)}`);
    return text as T;
  };
  const file = (f: string | undefined) => (f ? readFileSync(f) : undefined);
  const rate = num('--rate', v.rate, 100, 0.1, 1e7);
  const sensors = (v.sensors ?? 'temperature,humidity,pressure,co2').split(',').map((s) => s.trim()).filter(Boolean);
  if (sensors.length === 0) throw new ConfigError(`--sensors must name at least one sensor type, got ${JSON.stringify(v.sensors)}`);
  const o: SimulateOptions = {
    broker: v.broker ?? env.MQTT_BROKER ?? 'mqtt://127.0.0.1:1883',
    connect: { username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD, ca: file(env.MQTT_CA_FILE), cert: file(env.MQTT_CERT_FILE), key: file(env.MQTT_KEY_FILE) },
    devices: Math.floor(num('--devices', v.devices, 10, 1, 1e6)),
    sensors,
    rate,
    count: Math.floor(v.count !== undefined ? num('--count', v.count, 0, 1, 1e9) : rate * num('--duration', v.duration, 10, 0.1, 1e6)),
    qos: Number(oneOf('--qos', v.qos, ['0', '1'], '1')) as 0 | 1,
    format: oneOf('--format', v.format, ['bare', 'json', 'mixed'], 'bare'),
    anomalies: num('--anomalies', v.anomalies, 0, 0, 1),
    threshold: num('ALERT_THRESHOLD', env.ALERT_THRESHOLD, 35, -1e6, 1e6),
    prefix: v.prefix ?? 'sensors',
    episodes: Math.floor(num('--episodes', v.episodes, 0, 0, 1e6)),
    episodeGapMs: num('--episode-gap-ms', v['episode-gap-ms'], 30_000, 0, 1e9),
    bad: Math.floor(num('--bad', v.bad, 0, 0, 1e6)),
    limits: {
      maxPayloadBytes: num('INGEST_MAX_PAYLOAD_BYTES', env.INGEST_MAX_PAYLOAD_BYTES, 4096, 1, 1 << 20),
      maxFutureMs: num('INGEST_MAX_FUTURE_MS', env.INGEST_MAX_FUTURE_MS, 5 * 60 * 1000, 0, 365 * 24 * 3600 * 1000),
    },
    log: v.log,
  };
  checkPlan(o);
  return o;
}

/** What cannot work as asked: a plan that would lose its meaning half-way is refused before it starts. */
function checkPlan(o: SimulateOptions): void {
  const episodes = o.episodes ?? 0;
  if (o.log !== undefined && o.count > MAX_LOGGED_COUNT) throw new ConfigError(`--count must be at most ${MAX_LOGGED_COUNT} with --log (values carry the message number), got ${o.count}`);
  if ((o.bad ?? 0) > o.count) throw new ConfigError(`--bad must be at most --count (${o.count}), got ${o.bad}`);
  if (episodes === 0) return;
  const devices = episodeDevices(o);
  if (devices.length === 0) throw new ConfigError(`--episodes needs temperature readings in JSON: --sensors with temperature and --format json or mixed (mixed with one device: temperature at an even place in --sensors), got --format ${o.format} --sensors ${o.sensors.join(',')}`);
  // Episodes of one device start devices.length episodes apart; two readings of the pair pass within one.
  const pairMs = ((o.devices * o.sensors.length) / o.rate) * 1000;
  const gapMs = ((devices.length * o.count) / episodes / o.rate) * 1000 - 2 * pairMs;
  if (gapMs < (o.episodeGapMs ?? 30_000)) {
    throw new ConfigError(`--episodes ${episodes} leaves about ${Math.round(gapMs)} ms between two episodes of one device (${devices.length} JSON temperature devices, ${o.count / o.rate} s of readings), less than --episode-gap-ms ${o.episodeGapMs}: ask fewer episodes, more devices or a longer run`);
  }
}

const normal: Record<string, [number, number]> = { temperature: [18, 28], humidity: [30, 70], pressure: [990, 1030], co2: [400, 1200] };

/**
 * One reading: normal ranges per sensor type; a temperature anomaly is 2-15 degrees over the threshold.
 * A normal temperature stays 2 degrees below the threshold (an alert's hysteresis is 1 by default), whatever the threshold.
 */
export function readingFor(sensor: string, anomaly: boolean, threshold: number, random = Math.random): number {
  if (anomaly) return Math.round((threshold + 2 + random() * 13) * 10) / 10;
  let [lo, hi] = normal[sensor] ?? [0, 100];
  if (sensor === 'temperature' && hi > threshold - 2) [lo, hi] = [Math.min(lo, threshold - 12), threshold - 2];
  return Math.round((lo + random() * (hi - lo)) * 10) / 10;
}

/**
 * The value `reading` (to 0.1) carries message `seq` (1 to 9999999) in the next 7 decimals:
 * 22.5 and 123 → 22.50000123. Unique per message, so a stored row names the message; within 0.1 of
 * the reading; and its shortest text (String) parses back to it exactly.
 */
export function uniqueValue(reading: number, seq: number): number {
  return Number((Math.round(reading * 10) / 10 + seq * 1e-8).toFixed(8));
}

/**
 * Whether device `device` (from 0) sends sensor number `sensor` (its place in --sensors) as JSON.
 * With `mixed`, when their sum is even: by one flat pair index, with an even number of sensor types
 * every device would send each type in the same format.
 */
export function jsonPair(format: SimulateFormat, device: number, sensor: number): boolean {
  return format === 'json' || (format === 'mixed' && (device + sensor) % 2 === 0);
}

/** The devices (from 0) whose temperature readings are JSON: those episodes go to. */
export function episodeDevices(o: Pick<SimulateOptions, 'devices' | 'sensors' | 'format'>): number[] {
  const t = o.sensors.indexOf('temperature');
  if (t < 0) return [];
  return Array.from({ length: o.devices }, (_, d) => d).filter((d) => jsonPair(o.format, d, t));
}

/** `n` message indexes spread evenly over `count` messages: the kth at (k + ½) / n of the run. */
export function spread(n: number, count: number): number[] {
  return Array.from({ length: n }, (_, k) => Math.floor(((k + 0.5) * count) / n));
}

/** Readings above the threshold in one episode. */
export const EPISODE_READINGS = 3;

/**
 * Plans anomaly episodes. Episode k (from 1) is due at the kth of `episodes` evenly spread message
 * indexes and goes to `devices[(k - 1) % devices.length]`: it takes that device's next
 * EPISODE_READINGS temperature readings, once the device has sent a normal reading since its last
 * episode and `gapMs` of device time have passed since that episode's last reading (an alert must be
 * able to clear in between). Until then it waits.
 */
export class EpisodePlanner {
  /** Episodes whose readings have all been handed out. */
  completed = 0;
  readonly #due: number[];
  readonly #devices: readonly number[];
  readonly #gapMs: number;
  #released = 0;
  readonly #waiting = new Map<number, number[]>();
  readonly #state = new Map<number, { episode: number; left: number; lastAt: number; recovered: boolean }>();

  constructor(o: { count: number; episodes: number; gapMs: number; devices: readonly number[] }) {
    this.#due = o.devices.length > 0 ? spread(o.episodes, o.count) : [];
    this.#devices = o.devices;
    this.#gapMs = o.gapMs;
  }

  /** For the temperature reading of `device` at message `index` and device time `now` (ms): its episode if it is to be an anomaly. */
  reading(index: number, device: number, now: number): number | undefined {
    for (; this.#released < this.#due.length && this.#due[this.#released]! <= index; this.#released++) {
      const d = this.#devices[this.#released % this.#devices.length]!;
      this.#waiting.set(d, [...(this.#waiting.get(d) ?? []), this.#released + 1]);
    }
    const s = this.#state.get(device);
    if (s && s.left > 0) {
      s.left--;
      s.lastAt = now;
      if (s.left === 0) this.completed++;
      return s.episode;
    }
    const waiting = this.#waiting.get(device);
    if (waiting?.length && (!s || (s.recovered && now - s.lastAt >= this.#gapMs))) {
      const episode = waiting.shift()!;
      this.#state.set(device, { episode, left: EPISODE_READINGS - 1, lastAt: now, recovered: false });
      return episode;
    }
    if (s) s.recovered = true;
    return undefined;
  }
}

/** Where a bad message stands in the run: its slot's topic, number, a unique value for it, the device time. */
export interface BadContext {
  topic: string;
  seq: number;
  value: number;
  now: number;
  limits: ParseLimits;
}

export interface BadKind {
  name: string;
  /** The `sluice.reason` parseReading gives it (connectors/mqtt/parse.ts). */
  reason: RejectReason;
  /** Its topic (default: the slot's), payload (unique: it holds `seq`) and the device time in it, if any. */
  make(c: BadContext): { topic?: string; payload: string; time?: number };
}

/** Over 1 MiB, Kafka's default record limit: ingest must cut its dead letter (source.ts, DEAD_LETTER_PAYLOAD_BYTES). */
export const HUGE_PAYLOAD_BYTES = (1 << 20) + 1024;

/** A JSON reading padded with a `pad` string to exactly `bytes` bytes (or its bare size, if that is more). */
const padded = (c: BadContext, bytes: number) => {
  const bare = JSON.stringify({ value: c.value, seq: c.seq, pad: '' });
  return JSON.stringify({ value: c.value, seq: c.seq, pad: 'x'.repeat(Math.max(0, bytes - bare.length)) });
};
const timed = (c: BadContext, time: number) => ({ payload: JSON.stringify({ value: c.value, time: new Date(time).toISOString(), seq: c.seq }), time });

/** The bad messages, in the order `--bad` goes through them. */
export const BAD_KINDS: readonly BadKind[] = [
  { name: 'text', reason: 'not-a-number', make: (c) => ({ payload: `not a number #${c.seq}` }) },
  { name: 'malformed-json', reason: 'not-a-number', make: (c) => ({ payload: `{"value":${c.value},"seq":${c.seq}` }) },
  { name: 'string-value', reason: 'wrong-type', make: (c) => ({ payload: JSON.stringify({ value: String(c.value), seq: c.seq }) }) },
  // Under the prefix, so ingest's subscription (`<prefix>/#`) takes it, but a level too deep for the template.
  { name: 'topic-mismatch', reason: 'topic-mismatch', make: (c) => ({ topic: `${c.topic}/extra`, payload: JSON.stringify({ value: c.value, seq: c.seq }) }) },
  { name: 'over-limit', reason: 'too-large', make: (c) => ({ payload: padded(c, c.limits.maxPayloadBytes + 1) }) },
  // An hour past the limit: a slow ingest cannot make it acceptable.
  { name: 'future-time', reason: 'time-in-future', make: (c) => timed(c, c.now + c.limits.maxFutureMs + 3_600_000) },
  { name: 'old-time', reason: 'time-too-old', make: (c) => timed(c, Date.UTC(1999, 11, 31, 23, 59, 59)) },
  { name: 'huge', reason: 'too-large', make: (c) => ({ payload: padded(c, HUGE_PAYLOAD_BYTES) }) },
];

const deviceName = (d: number) => `device-${String(d + 1).padStart(3, '0')}`;

/** One message to publish: its payload and its log line (whose `topic` is where it goes). */
export interface PlannedMessage {
  payload: string;
  line: SentLine;
  anomaly: boolean;
}

/**
 * The run's messages: `next(index, now)` gives message `index` (from 0, round-robin over devices ×
 * sensors) published at device time `now` (ms; a later one for a sensor whose last reading had that
 * time). Only the readings' values and `--anomalies` are random.
 */
export function messagePlan(o: SimulateOptions) {
  const limits = o.limits ?? { maxPayloadBytes: 4096, maxFutureMs: 5 * 60 * 1000 };
  const badAt = new Map(spread(o.bad ?? 0, o.count).map((i, k) => [i, BAD_KINDS[k % BAD_KINDS.length]!]));
  const episodes = new EpisodePlanner({ count: o.count, episodes: o.episodes ?? 0, gapMs: o.episodeGapMs ?? 30_000, devices: episodeDevices(o) });
  const temperature = o.sensors.indexOf('temperature');
  // A device's clock gives each reading of a sensor its own time: a simulator that fell behind sends
  // a burst, and two readings of one sensor in one millisecond are one reading to sensor_data's key
  // (the overload benchmark lost 11,600 so at 4,000/s).
  const lastTime = new Map<string, number>();
  const next = (index: number, clock: number): PlannedMessage => {
    const seq = index + 1;
    const d = index % o.devices;
    const s = Math.floor(index / o.devices) % o.sensors.length;
    const series = `${d}/${s}`;
    const now = Math.max(clock, (lastTime.get(series) ?? -Infinity) + 1);
    lastTime.set(series, now);
    const [device, sensor] = [deviceName(d), o.sensors[s]!];
    const topic = `${o.prefix}/${device}/${sensor}`;
    const json = jsonPair(o.format, d, s);
    const kind = badAt.get(index);
    if (kind) {
      const m = kind.make({ topic, seq, value: uniqueValue(readingFor(sensor, false, o.threshold), seq), now, limits });
      return { payload: m.payload, anomaly: false, line: { e: 'sent', seq, topic: m.topic ?? topic, ...payloadFields(m.payload), kind: 'bad', device, sensor, time: m.time ?? null, reason: kind.reason } };
    }
    const episode = s === temperature && json ? episodes.reading(index, d, now) : undefined;
    const anomaly = episode !== undefined || (sensor === 'temperature' && (json || o.format !== 'mixed') && Math.random() < o.anomalies);
    let value = readingFor(sensor, anomaly, o.threshold);
    if (o.log !== undefined) value = uniqueValue(value, seq);
    const payload = json ? JSON.stringify({ value, time: new Date(now).toISOString() }) : String(value);
    const line: SentLine = { e: 'sent', seq, topic, ...payloadFields(payload), kind: 'reading', device, sensor, value, time: json ? now : null, ...(episode === undefined ? {} : { episode }) };
    return { payload, anomaly, line };
  };
  return { next, episodes };
}

/** Publishes `count` messages round-robin over devices × sensors at `rate` per second. */
export async function simulateDevices(o: SimulateOptions): Promise<SimulateResult> {
  const plan = messagePlan(o);
  const log = o.log === undefined ? undefined : openSimLog(o.log);
  const maxOutstanding = 1000;
  let sent = 0;
  let pubacks = 0;
  let anomalies = 0;
  let bad = 0;
  let reconnects = 0;
  let outstanding = 0;
  const started = performance.now();
  try {
    // reconnectPeriod > 0: with 0 and a clean session, mqtt.js fails every unacknowledged publish at a
    // connection loss instead of keeping it in its store and sending it again after reconnecting.
    const client = await mqtt.connectAsync(o.broker, { clientId: `sluice-sim-${process.pid}`, reconnectPeriod: 1000, ...o.connect, ...(process.env.DEBUG ? {} : { log: () => undefined }) });
    client.on('connect', () => reconnects++);
    const publish = (seq: number, topic: string, payload: string) => {
      let settled = false;
      const attempt = () => client.publish(topic, payload, { qos: o.qos }, (err) => {
        // Publishes queued while mqtt.js resends its store are failed, unsent, if that connection closes too: send again.
        if (err?.message === 'Connection closed' && o.qos === 1) return void setTimeout(attempt, 100);
        // Once per message, whatever mqtt.js calls back: a PUBACK is counted and logged once per seq.
        if (settled) return;
        settled = true;
        outstanding--;
        if (err || o.qos === 0) return;
        pubacks++;
        log?.write({ e: 'acked', seq });
      });
      outstanding++;
      attempt();
    };
    try {
      while (sent < o.count && !o.signal?.aborted) {
        const due = Math.min(o.count, Math.floor(((performance.now() - started) / 1000) * o.rate) + 1);
        for (; sent < due && outstanding < maxOutstanding; sent++) {
          const { payload, line, anomaly } = plan.next(sent, Date.now());
          if (anomaly) anomalies++;
          if (line.kind === 'bad') bad++;
          log?.write(line);
          publish(line.seq, line.topic, payload);
        }
        await sleep(sent < due && outstanding < maxOutstanding ? 1 : 5);
      }
      // Bounded: a broker that stays away must not keep a stopped simulator from reporting.
      const waitUntil = performance.now() + (o.ackWaitMs ?? 30_000);
      while (outstanding > 0 && performance.now() < waitUntil) await sleep(5);
    } finally {
      // Without force, mqtt.js would wait for every PUBACK still owed, however long.
      await client.endAsync(outstanding > 0 || !client.connected);
    }
  } finally {
    log?.close();
  }
  const unacked = o.qos === 1 ? outstanding : 0;
  return { sent, pubacks, unacked, anomalies, episodes: plan.episodes.completed, bad, reconnects, seconds: (performance.now() - started) / 1000 };
}
