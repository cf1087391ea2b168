import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import {
  connectKafka, type KafkaAdapter, type OutgoingBatch, type OutgoingRecord, RegistryClient,
  AvroSerde, readSchema, DLQ_TOPIC, valueSubject, SluiceError, faultPoint, deadLetter,
  createMetrics, startOpsServer, type RunningTopology, untilReady, retry, backoffDelay,
} from '../../core/component.ts';
import { holdPubacks, type AckToken } from './acks.ts';
import { parseReading, templateFilter, type SensorReading } from './parse.ts';
import { ConnectorClock, DELIVERY_HEADER, deliveryHeader, digest, type WrittenUnacked } from './redelivery.ts';
import { resumeFromKafka, type Resumed } from './resume.ts';
import type { IngestConfig } from './ingest-settings.ts';

const NAME = 'ingest';

/** One received message on its way to Kafka, with the PUBACK it is owed (QoS 1). */
interface Entry {
  topic: string;
  /** None for a redelivery of a message already in Kafka: only its PUBACK is owed. */
  record?: OutgoingRecord;
  ack?: AckToken;
  /** A QoS 1 message: what tells a redelivery of it from another message under its packet id. */
  delivery?: { id: number; topic: string; digest: number };
}

function ingestMetrics() {
  const m = createMetrics(NAME);
  const registers = [m.registry];
  // Plain numbers on the per-message path, read when /metrics is scraped: a labelled inc() and a
  // set() per message cost more than the rest of the bookkeeping.
  const counts = { receivedByQos: [0, 0, 0] as [number, number, number], unacked: 0 };
  return {
    ...m,
    counts,
    messages: new Counter({
      name: 'sluice_mqtt_messages_total', help: 'MQTT messages received, by QoS', labelNames: ['qos'], registers,
      collect() {
        counts.receivedByQos.forEach((n, qos) => n > 0 && this.inc({ qos: String(qos) }, n));
        counts.receivedByQos.fill(0);
      },
    }),
    unacked: new Gauge({
      name: 'sluice_mqtt_unacked', help: 'Messages received and not yet acknowledged to the broker', registers,
      collect() {
        this.set(counts.unacked);
      },
    }),
    connected: new Gauge({ name: 'sluice_mqtt_connected', help: '1 while connected to the MQTT broker', registers }),
    sendRetries: new Counter({ name: 'sluice_kafka_send_retries_total', help: 'Kafka writes retried after a failure', registers }),
    redeliveries: new Counter({ name: 'sluice_mqtt_redeliveries_skipped_total', help: 'Redelivered messages already in Kafka: acknowledged, not written again', registers }),
  };
}

export function clientOptions(cfg: IngestConfig): IClientOptions {
  const read = (f: string | undefined) => (f === undefined ? undefined : readFileSync(f));
  return {
    clientId: cfg.MQTT_CLIENT_ID,
    clean: false,
    protocolVersion: 5,
    // Without a session expiry an MQTT 5 session ends at disconnect, and with it what is queued (DESIGN.md §8).
    // Receive Maximum makes the broker stop sending once this many messages wait for their PUBACK.
    properties: { sessionExpiryInterval: cfg.MQTT_SESSION_EXPIRY_S, receiveMaximum: cfg.INGEST_INFLIGHT },
    username: cfg.MQTT_USERNAME,
    password: cfg.MQTT_PASSWORD,
    ca: read(cfg.MQTT_CA_FILE),
    cert: read(cfg.MQTT_CERT_FILE),
    key: read(cfg.MQTT_KEY_FILE),
    keepalive: 30,
    connectTimeout: 10_000,
    reconnectPeriod: minBackoffMs,
    resubscribe: false,
    manualConnect: true,
    // MQTT.js formats debug lines for every packet even when nobody reads them; DEBUG=mqttjs* still shows them.
    ...(process.env.DEBUG ? {} : { log: () => undefined }),
  };
}

/** Kafka writes (batches) in flight at once. */
const writesInFlight = 4;
/** The most messages that can be written and not yet acknowledged at once: the broker's window, and the batches being written. */
const unackedWindow = (cfg: IngestConfig) => cfg.INGEST_INFLIGHT + writesInFlight * cfg.INGEST_BATCH_MAX;
const minBackoffMs = 250;
const maxBackoffMs = 10_000;

/**
 * The MQTT source connector: subscribes with QoS 1 on a persistent session, turns messages into
 * SensorReading records (bad ones into dead letters), writes them to Kafka in batches, and only
 * then sends their PUBACKs. Serves /health, /ready and /metrics like a topology.
 */
export async function startIngest(cfg: IngestConfig, log: Logger): Promise<RunningTopology> {
  const metrics = ingestMetrics();
  // The registry's first answer, Kafka, the new topics' leaders: waited for as by every topology (core/retry.ts).
  const startup = { timeoutMs: cfg.SLUICE_STARTUP_TIMEOUT_MS, setting: 'SLUICE_STARTUP_TIMEOUT_MS', log };
  const registry = new RegistryClient(cfg.SCHEMA_REGISTRY_URL, startup);
  const serde = new AvroSerde<SensorReading>(registry, valueSubject(cfg.INGEST_TOPIC), readSchema('sensor-readings'));
  const kafka = await connectKafka(cfg.KAFKA_BROKERS, `sluice-${NAME}`, log, startup);
  let client: MqttClient | undefined;
  let server: Server | undefined;
  try {
    await serde.init().catch((err: unknown) => {
      throw new SluiceError(`cannot start ${NAME}: ${(err as Error).message}`);
    });
    await kafka.ensureTopics([cfg.INGEST_TOPIC, DLQ_TOPIC].map((topic) => ({ topic, partitions: cfg.SLUICE_PARTITIONS })));
    // Topics just created may have no leader for a moment: a start-up wait like the others.
    const resumed = await untilReady(`what ${cfg.MQTT_CLIENT_ID} wrote to ${cfg.INGEST_TOPIC}`, () => resumeFromKafka(kafka, {
      readings: cfg.INGEST_TOPIC, deadLetters: DLQ_TOPIC, clientId: cfg.MQTT_CLIENT_ID, window: unackedWindow(cfg), serde, log,
    }), startup);
    client = mqtt.connect(cfg.MQTT_BROKER, clientOptions(cfg));
    const ingest = createIngest({ cfg, client, kafka, serde, metrics, log, resumed });
    client.connect();
    await ingest.connected();
    server = await startOpsServer({ port: cfg.SLUICE_OPS_PORT, metrics: metrics.registry, ready: () => ingest.checks(registry) });
    const address = server.address();
    const opsPort = typeof address === 'object' && address ? address.port : cfg.SLUICE_OPS_PORT;
    log.info({ topic: cfg.INGEST_TOPIC, filter: ingest.filter, clientId: cfg.MQTT_CLIENT_ID, opsPort }, 'started');
    const srv = server;
    return {
      opsPort,
      failed: ingest.failed,
      async stop() {
        const timeout = sleep(cfg.SLUICE_SHUTDOWN_TIMEOUT_MS, undefined, { ref: false }).then(() => {
          throw new Error(`shutdown did not complete within ${cfg.SLUICE_SHUTDOWN_TIMEOUT_MS} ms`);
        });
        await Promise.race([ingest.drain(), timeout]);
        srv.close();
        await kafka.close();
      },
    };
  } catch (err) {
    client?.end(true);
    server?.close();
    await kafka.close().catch(() => undefined);
    throw err;
  }
}

interface IngestDeps {
  cfg: IngestConfig;
  client: MqttClient;
  kafka: KafkaAdapter;
  serde: AvroSerde<SensorReading>;
  metrics: ReturnType<typeof ingestMetrics>;
  log: Logger;
  resumed: Resumed;
}

const mqttHeaders = (p: IPublishPacket, clientId: string): Record<string, string> => ({
  'mqtt.topic': p.topic, 'mqtt.qos': String(p.qos), 'mqtt.retain': String(p.retain), 'mqtt.dup': String(p.dup), 'mqtt.client': clientId,
});

/** The headers of the usual message (QoS 1, neither retained nor a redelivery), one frozen object per topic. */
function headerCache(clientId: string) {
  const byTopic = new Map<string, Readonly<Record<string, string>>>();
  return (p: IPublishPacket): Readonly<Record<string, string>> => {
    if (p.qos !== 1 || p.retain || p.dup) return mqttHeaders(p, clientId);
    let headers = byTopic.get(p.topic);
    if (headers === undefined) {
      if (byTopic.size >= 10_000) byTopic.clear();
      byTopic.set(p.topic, (headers = Object.freeze(mqttHeaders(p, clientId))));
    }
    return headers;
  };
}

/** Kafka's default limit for a record batch is 1 MiB: a dead letter keeps at most this much of its payload. */
const DEAD_LETTER_PAYLOAD_BYTES = 64 * 1024;

function createIngest({ cfg, client, kafka, serde, metrics, log, resumed }: IngestDeps) {
  const base = cfg.MQTT_TOPIC_FILTER ?? templateFilter(cfg.MQTT_TOPIC_TEMPLATE);
  const filter = cfg.MQTT_SHARE_GROUP ? `$share/${cfg.MQTT_SHARE_GROUP}/${base}` : base;
  const limits = { maxPayloadBytes: cfg.INGEST_MAX_PAYLOAD_BYTES, maxFutureMs: cfg.INGEST_MAX_FUTURE_MS };
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const gate = holdPubacks(client);
  const buffer: Entry[] = [];
  const bufferLimit = 2 * cfg.INGEST_INFLIGHT;
  const { counts } = metrics;
  /** handleMessage's callback, held while the buffer is full: only QoS 0 floods get here, QoS 1 is bounded by Receive Maximum. */
  let paused: (() => void) | undefined;
  const waiters: (() => void)[] = [];
  const wake = () => {
    if (waiters.length > 0) for (const w of waiters.splice(0)) w();
  };
  let stopping = false;
  let lastError: Error | undefined;
  let closes = 0; // since the last connect: the reconnect pause grows with them
  let subscribed = false;

  const headersOf = headerCache(cfg.MQTT_CLIENT_ID);
  const unacked: WrittenUnacked = resumed.unacked;
  const clock = new ConnectorClock(resumed.clockUs);
  let seq = resumed.nextSeq;
  const logged = new Map<string, number>();
  const toEntry = (packet: IPublishPacket, ack: AckToken | undefined): Entry => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const hash = digest(payload);
    const id = packet.qos > 0 ? packet.messageId ?? 0 : 0;
    const delivery = id > 0 ? { id, topic: packet.topic, digest: hash } : undefined;
    if (delivery && unacked.take(id, packet.topic, hash, packet.dup, seq)) {
      metrics.redeliveries.inc();
      return { topic: cfg.INGEST_TOPIC, ack, delivery };
    }
    const headers = { ...headersOf(packet), [DELIVERY_HEADER]: deliveryHeader(seq++, id, hash) };
    const receivedAt = Date.now();
    const parsed = parseReading(cfg.MQTT_TOPIC_TEMPLATE, packet.topic, payload, receivedAt, limits);
    let reason: string;
    let error: Error;
    if (parsed.ok) {
      const reading = parsed.reading;
      if (reading.time_source === 'connector') Object.assign(reading, clock.next(receivedAt));
      try {
        return { topic: cfg.INGEST_TOPIC, record: { key: reading.device_id, value: serde.encode(reading), headers }, ack, delivery };
      } catch (err) {
        [reason, error] = ['serialize', err as Error];
      }
    } else {
      [reason, error] = [parsed.reason, new Error(parsed.message)];
    }
    metrics.deadLetters.inc({ reason });
    // One line per reason every 10 s at most: a flood of bad input must not become a flood of logs.
    if (receivedAt - (logged.get(reason) ?? -Infinity) >= 10_000) {
      logged.set(reason, receivedAt);
      log.warn({ reason, topic: packet.topic.slice(0, 200), error: error.message }, 'message sent to sluice.dlq (more of this reason in the next 10 s are only counted)');
    }
    // A payload too large for Kafka would be refused for ever and hold up every later PUBACK: cut, with its size and digest.
    const cut = payload.length > DEAD_LETTER_PAYLOAD_BYTES;
    const kept = cut ? payload.subarray(0, DEAD_LETTER_PAYLOAD_BYTES) : payload;
    const dlqHeaders = cut ? { ...headers, 'sluice.payload.bytes': String(payload.length), 'sluice.payload.sha256': createHash('sha256').update(payload).digest('hex') } : headers;
    return { topic: DLQ_TOPIC, record: deadLetter({ key: null, value: kept, headers: dlqHeaders }, { topology: NAME, topic: packet.topic }, reason, error), ack, delivery };
  };

  client.handleMessage = (packet, done) => {
    const p = packet as IPublishPacket;
    // While stopping, the automatic PUBACK is swallowed and never released: the broker redelivers.
    if (stopping) return done();
    counts.receivedByQos[p.qos] += 1;
    const ack = p.qos === 1 && p.messageId !== undefined ? gate.token(p.messageId) : undefined;
    if (ack) counts.unacked += 1;
    buffer.push(toEntry(p, ack));
    wake();
    if (buffer.length < bufferLimit) done();
    else paused = done;
  };
  client.on('connect', () => {
    closes = 0;
    client.options.reconnectPeriod = minBackoffMs;
    metrics.connected.set(1);
    log.info({ filter }, 'connected to the MQTT broker');
    // rh 1: retained messages only for a new subscription, not again at every reconnect.
    client.subscribe(filter, { qos: 1, rh: 1 }, (err, granted) => {
      // MQTT.js fails a SUBSCRIBE in flight when its connection closes, before it says the connection
      // closed: not a refusal, the next connection subscribes again (a broker too busy to answer).
      if (err) {
        setImmediate(() => {
          if (client.connected) fail(new SluiceError(`MQTT subscribe failed: ${err.message}`));
          else log.warn({ filter, error: err.message }, 'MQTT subscribe cut off by the connection closing; subscribing again once connected');
        });
        return;
      }
      if (granted?.some((g) => g.qos > 2)) fail(new SluiceError(`MQTT subscribe failed: the broker refused the subscription to ${filter}`));
      else subscribed = true;
    });
  });
  client.on('close', () => {
    metrics.connected.set(0);
    client.options.reconnectPeriod = backoffDelay(++closes, { initialDelayMs: minBackoffMs, maxDelayMs: maxBackoffMs });
    // Messages of the closed connection not yet being written come again on the next one.
    const before = buffer.length;
    for (let i = buffer.length - 1; i >= 0; i--) {
      const e = buffer[i]!;
      if (!e.ack || gate.current(e.ack)) continue;
      buffer.splice(i, 1);
      // A redelivery already in Kafka that now goes unacknowledged: it comes again, and is still written.
      if (!e.record && e.delivery) unacked.add(e.delivery.id, e.delivery.topic, e.delivery.digest);
    }
    if (before > buffer.length) {
      counts.unacked -= before - buffer.length;
      log.warn({ dropped: before - buffer.length }, 'MQTT connection closed; the broker will redeliver unacknowledged messages');
    }
  });
  client.on('error', (err) => {
    lastError = err;
    log.warn({ err: { message: err.message } }, 'MQTT error');
  });

  const sendUntilDone = async (entries: Entry[]) => {
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const e of entries) {
      if (!e.record) continue;
      const list = byTopic.get(e.topic);
      if (list) list.push(e.record);
      else byTopic.set(e.topic, [e.record]);
    }
    const batches: OutgoingBatch[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    if (batches.length === 0) return;
    await retry(() => kafka.send(batches), {
      isRetriable: () => true, initialDelayMs: minBackoffMs, maxDelayMs: maxBackoffMs,
      onRetry: (err, _attempt, retryInMs) => {
        metrics.sendRetries.inc();
        log.warn({ err: { message: (err as Error).message }, records: entries.length, retryInMs }, 'Kafka write failed; holding PUBACKs and retrying');
      },
    });
  };

  /** Settles once the PUBACKs of every batch taken so far have gone out. */
  let releasedSoFar = Promise.resolve();
  const writeLoop = async () => {
    while (!stopping || buffer.length > 0) {
      if (buffer.length === 0) {
        await new Promise<void>((resolve) => waiters.push(resolve));
        continue;
      }
      const batch = buffer.splice(0, cfg.INGEST_BATCH_MAX);
      // From here on each of them is written (sendUntilDone gives up only with the process): a
      // redelivery under its id, after its PUBACK was lost with a connection, is recognised.
      for (const e of batch) if (e.delivery) unacked.add(e.delivery.id, e.delivery.topic, e.delivery.digest, seq, false);
      const previous = releasedSoFar;
      let released!: () => void;
      releasedSoFar = new Promise<void>((resolve) => (released = resolve));
      faultPoint('ingest.before-kafka-ack');
      await sendUntilDone(batch);
      // PUBACKs go out in the order the messages came (MQTT 5 §4.6), whichever write Kafka acknowledged first.
      await previous;
      faultPoint('ingest.before-puback');
      const acks: AckToken[] = [];
      let readings = 0;
      for (const e of batch) {
        if (e.ack) acks.push(e.ack);
        if (e.topic === cfg.INGEST_TOPIC && e.record) readings += 1;
      }
      // PUBACKs that could not go out (the connection closed): their messages are in Kafka and come again.
      const unsent = gate.release(acks);
      if (unsent.length > 0) {
        const owed = new Set(unsent);
        for (const e of batch) if (e.ack && e.delivery && owed.has(e.ack)) unacked.add(e.delivery.id, e.delivery.topic, e.delivery.digest);
      }
      released();
      counts.unacked -= acks.length;
      metrics.recordsOut.inc({ sink: cfg.INGEST_TOPIC }, readings);
      metrics.batchSize.observe(batch.length);
      if (paused && buffer.length < bufferLimit) {
        const resume = paused;
        paused = undefined;
        resume();
      }
    }
  };
  // Several batches in flight: Kafka acknowledges some while the next is encoded and sent.
  const writer = Promise.all(Array.from({ length: writesInFlight }, writeLoop)).catch((err: unknown) => fail(err as Error));

  return {
    filter,
    failed,
    /** Resolves on the first SUBACK; rejects with the broker's or the network's error after a timeout. */
    async connected(): Promise<void> {
      const deadline = Date.now() + 15_000;
      while (!subscribed) {
        // Refused credentials are not retried: a wrong password does not become right.
        const code = (lastError as { code?: unknown } | undefined)?.code;
        if (code === 134 || code === 135 || code === 4 || code === 5) throw new SluiceError(`cannot start ${NAME}: MQTT broker ${cfg.MQTT_BROKER} refused the connection: ${lastError!.message}`);
        if (Date.now() > deadline) throw new SluiceError(`cannot start ${NAME}: MQTT broker ${cfg.MQTT_BROKER} did not accept the connection${lastError ? `: ${lastError.message}` : ''}`);
        await sleep(100);
      }
    },
    async checks(registry: RegistryClient): Promise<Record<string, boolean | string>> {
      const late = () => sleep(5000, undefined, { ref: false }).then(() => { throw new Error('did not answer within 5000 ms'); });
      const probe = (p: Promise<unknown>) => Promise.race([p, late()]).then(() => true as const, (err: Error) => err.message);
      return {
        mqtt: client.connected || `not connected${lastError ? `: ${lastError.message}` : ''}`,
        kafka: await probe(kafka.ping()),
        'schema-registry': await probe(registry.versions(serde.subject)),
      };
    },
    /** Takes no new messages, writes and acknowledges what was received, disconnects (the session stays). */
    async drain(): Promise<void> {
      stopping = true;
      paused?.();
      wake();
      await writer;
      await client.endAsync();
    },
  };
}
