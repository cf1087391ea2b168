import pg from 'pg';
import type { KafkaAdapter } from '../kafka/adapter.ts';

/** One process of the pipeline: its name (also its consumer group, for Kafka-sourced ones) and ops port. */
export interface PipelineProcess {
  name: string;
  port: number;
  /** The topic it consumes; none for a source connector. */
  source?: string;
}

export interface PipelineStatus {
  /** MQTT messages received by the connectors, and rows loaded by the timescale sink, in all. */
  received: number;
  stored: number;
  /** Records not yet processed, over every process (`sluice_consumer_lag`). */
  lag: number;
  /** Records not yet committed, over every consumer group (the archiver commits a file once it is uploaded). */
  uncommitted: number;
  /** Messages received by the connectors and not yet acknowledged to the broker. */
  unacked: number;
  deadLetters: number;
  openAlerts: number | undefined;
  ready: number;
  processes: number;
}

/** Sum of a metric's samples in Prometheus text (`name` or `name{…}`). */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

const get = async (url: string) => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { ok: r.ok, text: await r.text() };
  } catch {
    return { ok: false, text: '' };
  }
};

/** Lag of a group on its source: end offsets minus committed ones (a partition never committed counts from its start). */
async function groupLag(kafka: KafkaAdapter, group: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([kafka.watermarks(topic), kafka.groupOffsets(group, topic)]);
  let lag = 0;
  for (const w of ends) {
    const at = BigInt(committed.get(w.partition) ?? '-1');
    lag += Number(BigInt(w.high) - (at >= 0n ? at : BigInt(w.low)));
  }
  return lag;
}

/** What the pipeline's processes, its consumer groups and the alerts table say now. */
export async function pipelineStatus(processes: readonly PipelineProcess[], kafka: KafkaAdapter, db?: pg.Pool): Promise<PipelineStatus> {
  const pages = await Promise.all(processes.map(async (p) => ({ p, metrics: (await get(`http://127.0.0.1:${p.port}/metrics`)).text, ready: (await get(`http://127.0.0.1:${p.port}/ready`)).ok })));
  const total = (name: string, only?: (p: PipelineProcess) => boolean) => pages.filter(({ p }) => !only || only(p)).reduce((s, x) => s + sumMetric(x.metrics, name), 0);
  const lags = await Promise.all(processes.filter((p) => p.source).map((p) => groupLag(kafka, p.name, p.source!).catch(() => 0)));
  const open = await db?.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts WHERE cleared_at IS NULL').then((r) => r.rows[0]!.n, () => undefined);
  return {
    received: total('sluice_mqtt_messages_total'),
    stored: total('sluice_records_out_total', (p) => p.name === 'timescale-sink'),
    lag: total('sluice_consumer_lag'),
    uncommitted: lags.reduce((a, b) => a + b, 0),
    unacked: total('sluice_mqtt_unacked'),
    deadLetters: total('sluice_dlq_records_total'),
    openAlerts: open,
    ready: pages.filter((x) => x.ready).length,
    processes: processes.length,
  };
}

/** The status line, with rates from the previous status `seconds` ago. */
export function statusLine(now: PipelineStatus, before: PipelineStatus | undefined, seconds: number): string {
  const rate = (k: 'received' | 'stored') => (before ? Math.max(0, (now[k] - before[k]) / seconds).toFixed(0) : '-');
  return `in ${rate('received')}/s · stored ${rate('stored')}/s (${now.stored} rows) · lag ${now.lag} (uncommitted ${now.uncommitted}) · open alerts ${now.openAlerts ?? '?'} · DLQ ${now.deadLetters} · ready ${now.ready}/${now.processes}`;
}

/** Everything received is acknowledged and every group has committed all it had to read. */
export const drained = (s: PipelineStatus) => s.unacked === 0 && s.uncommitted === 0;
