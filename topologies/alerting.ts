import { mergeMap } from 'rxjs';
import {
  defineTopology, kafkaSink, stateful, type OutRecord, type SinkFactory, type Topology, type Env,
  type TopologyEntry,
} from '../core/index.ts';
import { timescaleSink } from '../sinks/timescale/table-sink.ts';
import { timescaleSchema } from '../sinks/timescale/timescale-settings.ts';
import { alertsTable } from '../sinks/timescale/table.ts';
import { webhookSink } from '../sinks/webhook/webhook-sink.ts';
import { alertingConfig, alertingSchema, rulesOf, step, type RuleState } from './alerting/rules.ts';
import type { Alert, Reading } from '../schemas/records.ts';

/** State of the `alerts` store, by key: `r|device|sensor|rule` → RuleState, `p|device|sensor` → last reading, `s|device` → silence. */
type State = RuleState | { value: number; time: number } | { seen: number; open?: Alert };

/**
 * sensor-readings → one alert when a rule is breached, and the same alert (same id) again when the
 * value has been back past the bound (minus the hysteresis) for ALERT_CLEAR_AFTER_MS: to the topic
 * `alerts`, the table `alerts` (upsert by id) and, when configured, a webhook.
 */
export function alertingTopology(opts: { name?: string; topic?: string; alertsTopic?: string } = {}, env: Env = process.env): Topology<Reading> {
  const cfg = alertingConfig(env);
  const rules = rulesOf(cfg);
  const alertsTopic = opts.alertsTopic ?? 'alerts';
  const silentAfter = cfg.ALERT_SILENT_AFTER_MS;
  const sinks: Record<string, SinkFactory> = {
    topic: kafkaSink({ topic: alertsTopic, schema: 'alerts' }),
    table: timescaleSink(alertsTable, { offsets: false }, env),
  };
  if (cfg.ALERT_WEBHOOK_URL) sinks.webhook = webhookSink({ url: cfg.ALERT_WEBHOOK_URL, timeoutMs: cfg.ALERT_WEBHOOK_TIMEOUT_MS, attempts: cfg.ALERT_WEBHOOK_ATTEMPTS });
  const targets = Object.keys(sinks);

  return defineTopology<Reading>({
    name: opts.name ?? 'alerting',
    description: `alerts on thresholds (temperature > ${cfg.ALERT_THRESHOLD}), bounds, rate of change${silentAfter ? ' and silence' : ''} → ${alertsTopic} and the alerts table`,
    source: { topic: opts.topic ?? 'sensor-readings', schema: 'sensor-readings' },
    pipeline: (src) => src.pipe(
      stateful<Reading, State, Alert>({
        store: 'alerts',
        onRecord: (r, store, emit, now, replay) => {
          const reading = r.value;
          const { device_id: device, sensor_type: sensor } = reading;
          if (silentAfter) {
            const silence = store.get(`s|${device}`) as { open?: Alert } | undefined;
            if (silence?.open) emit({ ...silence.open, cleared_at: reading.time });
            store.put(`s|${device}`, { seen: now });
          }
          const applicable = rules.get(sensor);
          if (!applicable) return;
          const lastKey = `p|${device}|${sensor}`;
          const previous = store.get(lastKey) as { value: number; time: number } | undefined;
          // A replay starts with empty state: an episode breached at a sensor's first replayed reading
          // may have opened before the range, under another id. It is followed, but neither its opening
          // nor its clearing is sent (the run that saw its start sent them), as with partial windows.
          const pastUnknown = replay !== undefined && previous === undefined;
          for (const rule of applicable) {
            const key = `r|${device}|${sensor}|${rule.name}`;
            const state = (store.get(key) as RuleState | undefined) ?? {};
            const next = step(rule, state, reading, previous, cfg.ALERT_CLEAR_AFTER_MS);
            const partial = state.partial === true || (pastUnknown && next.send !== undefined);
            if (next.state) store.put(key, partial ? { ...next.state, partial } : next.state);
            else store.delete(key);
            if (next.send && !partial) emit(next.send);
          }
          store.put(lastKey, { value: reading.value, time: reading.time });
        },
        // Silence is wall-clock: when the device's last reading was processed, against now.
        onWallClock: silentAfter ? (now, store, emit) => {
          for (const [key, s] of store.entries()) {
            if (!key.startsWith('s|')) continue;
            const silence = s as { seen: number; open?: Alert };
            if (silence.open || now - silence.seen < silentAfter) continue;
            const device = key.slice(2);
            const open: Alert = {
              id: `${device}:any:silent:${silence.seen}`, device_id: device, sensor_type: 'any', rule: 'silent', severity: 'warning',
              message: `no reading from ${device} for ${Math.round((now - silence.seen) / 60_000)} min`, value: null, opened_at: now, cleared_at: null,
            };
            store.put(key, { ...silence, open });
            emit(open);
          }
        } : undefined,
      }),
      mergeMap((a) => targets.map((to): OutRecord => ({ to, key: a.id, value: a }))),
    ),
    sinks,
  });
}

/** The shipped `alerting`, configured (ALERT_*, TIMESCALE_*) when its process starts. */
export const alerting: TopologyEntry = {
  name: 'alerting',
  description: 'alerts on thresholds (temperature > ALERT_THRESHOLD, 35 by default), bounds, rate of change and silence → alerts and the alerts table',
  opsPort: 9466,
  settings: [alertingSchema, timescaleSchema],
  configure: (env) => alertingTopology({}, env),
};
