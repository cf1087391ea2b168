import { z } from 'zod';
import { loadConfig, ConfigError } from '../../core/index.ts';
import type { Alert, Reading } from '../../schemas/records.ts';

/** A condition on one sensor type: `breached` opens an alert, `recovered` (held for clearAfterMs) clears it. */
export interface Rule {
  name: string;
  sensorType: string;
  severity: 'warning' | 'critical';
  breached(value: number, previous: { value: number; time: number } | undefined, time: number): boolean;
  recovered(value: number, previous: { value: number; time: number } | undefined, time: number): boolean;
  describe(value: number): string;
}

const bound = z.object({ min: z.number().finite().optional(), max: z.number().finite().optional() }).strict();
const json = <T extends z.ZodType>(schema: T) => z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected JSON' });
    return z.NEVER;
  }
}).pipe(schema);

/** What `alerting` reads from the environment. */
export const alertingSchema = z.object({
  ALERT_THRESHOLD: z.coerce.number().finite().default(35).describe('Temperature above this (°C) raises `temperature-high`.'),
  ALERT_HYSTERESIS: z.coerce.number().finite().min(0).default(1).describe('A value must come back past the bound by this much to count as recovered.'),
  ALERT_CLEAR_AFTER_MS: z.coerce.number().int().min(0).default(60_000).describe('How long (event time, ms) a value must stay recovered before its alert clears.'),
  ALERT_BOUNDS: json(z.record(z.string(), bound)).default({}).describe('More bounds per sensor type, JSON: {"humidity": {"min": 10, "max": 90}}.'),
  ALERT_RATE_PER_MINUTE: json(z.record(z.string(), z.number().positive())).default({}).describe('Rate of change limits per sensor type, in units per minute, JSON: {"temperature": 5}.'),
  ALERT_SILENT_AFTER_MS: z.coerce.number().int().min(0).default(0).describe('A device with no reading for this long (wall clock, ms) raises `silent`; 0 turns it off.'),
  ALERT_WEBHOOK_URL: z.url().optional().describe('Optional: alerts are POSTed there as JSON (the URL may hold a token: it is never logged).'),
  ALERT_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000).describe('How long one webhook request may take, ms.'),
  ALERT_WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3).describe('Attempts per alert before it goes to the dead-letter topic.'),
});
export type AlertingConfig = z.output<typeof alertingSchema>;

export function alertingConfig(env: Record<string, string | undefined>): AlertingConfig {
  return loadConfig(alertingSchema, env);
}

/** The rules the configuration describes, by sensor type. */
export function rulesOf(cfg: AlertingConfig): Map<string, Rule[]> {
  const h = cfg.ALERT_HYSTERESIS;
  const rules: Rule[] = [];
  const bounds: Record<string, { min?: number; max?: number }> = { ...cfg.ALERT_BOUNDS, temperature: { ...cfg.ALERT_BOUNDS.temperature, max: cfg.ALERT_THRESHOLD } };
  for (const [sensorType, b] of Object.entries(bounds)) {
    if (b.max !== undefined) {
      const max = b.max;
      rules.push({ name: `${sensorType}-high`, sensorType, severity: 'critical', breached: (v) => v > max, recovered: (v) => v < max - h, describe: (v) => `${sensorType} ${v} above ${max}` });
    }
    if (b.min !== undefined) {
      const min = b.min;
      rules.push({ name: `${sensorType}-low`, sensorType, severity: 'critical', breached: (v) => v < min, recovered: (v) => v > min + h, describe: (v) => `${sensorType} ${v} below ${min}` });
    }
    if (b.min !== undefined && b.max !== undefined && b.min >= b.max) throw new ConfigError(`ALERT_BOUNDS: ${sensorType}: min must be below max`);
  }
  for (const [sensorType, limit] of Object.entries(cfg.ALERT_RATE_PER_MINUTE)) {
    const rate = (v: number, p: { value: number; time: number } | undefined, t: number) => (p && t > p.time ? (Math.abs(v - p.value) * 60_000) / (t - p.time) : 0);
    rules.push({
      name: `${sensorType}-rate`, sensorType, severity: 'warning',
      breached: (v, p, t) => rate(v, p, t) > limit, recovered: (v, p, t) => rate(v, p, t) <= limit,
      describe: (v) => `${sensorType} changing faster than ${limit} per minute (now ${v})`,
    });
  }
  const byType = new Map<string, Rule[]>();
  for (const r of rules) byType.set(r.sensorType, [...(byType.get(r.sensorType) ?? []), r]);
  return byType;
}

/**
 * Per device, sensor and rule: the open alert and since when (event time) the value has been
 * recovered. `partial`: an episode under way when a replay began, which may have opened before it.
 */
export interface RuleState {
  open?: Alert;
  okSince?: number;
  partial?: boolean;
}

/**
 * One step of a rule's hysteresis for a reading: returns the new state and the alert to send, if the
 * alert opened or cleared.
 */
export function step(rule: Rule, state: RuleState, r: Reading, previous: { value: number; time: number } | undefined, clearAfterMs: number): { state: RuleState | undefined; send?: Alert } {
  const { value, time } = r;
  if (!state.open) {
    if (!rule.breached(value, previous, time)) return { state: undefined };
    const open: Alert = {
      id: `${r.device_id}:${r.sensor_type}:${rule.name}:${time}`, device_id: r.device_id, sensor_type: r.sensor_type, rule: rule.name,
      severity: rule.severity, message: rule.describe(value), value, opened_at: time, cleared_at: null,
    };
    return { state: { open }, send: open };
  }
  if (!rule.recovered(value, previous, time)) return { state: { open: state.open } };
  const okSince = state.okSince ?? time;
  if (time - okSince < clearAfterMs) return { state: { open: state.open, okSince } };
  return { state: undefined, send: { ...state.open, cleared_at: time } };
}
