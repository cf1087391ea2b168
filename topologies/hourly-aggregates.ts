import { mergeMap } from 'rxjs';
import { z } from 'zod';
import {
  defineTopology, kafkaSink, windowedAggregate, TimeWindows, hours, type OutRecord, type Topology,
  loadConfig, type Env, type TopologyEntry,
} from '../core/index.ts';
import { timescaleSchema } from '../sinks/timescale/timescale-settings.ts';
import { hourlyStatsSink, type HourlyRow, type LateReading } from '../sinks/timescale/hourly-sink.ts';
import type { HourlyStats, Reading } from '../schemas/records.ts';

const ms = (def: number) => z.coerce.number().int().min(0).max(30 * 86_400_000).default(def);

/** What `hourly-aggregates` reads from the environment (besides the sinks' own settings). */
export const hourlySchema = z.object({
  HOURLY_GRACE_MS: ms(600_000).describe('How long after its end an hour still takes readings, in event time (ms).'),
  HOURLY_IDLE_MS: ms(900_000).describe('Wall-clock ms without readings after which a partition\'s hours close anyway (0: never).'),
  HOURLY_MAX_WINDOWS: z.coerce.number().int().min(1).default(1_000_000).describe('Open (device, sensor, hour) windows one partition may hold; past it the topology stops.'),
});

interface Stats {
  device_id: string;
  sensor_type: string;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * sensor-readings → per (device_id, sensor_type) and UTC hour: count, sum, min, max, avg, emitted
 * once the hour closes (end + grace in event time, or the idle timeout), to the topic
 * `sensor-stats-hourly` and the table `sensor_stats_hourly` (upsert). A reading later than the grace
 * goes to the DLQ (reason `late`) and its hour is recomputed from `sensor_data`.
 */
export function hourlyAggregatesTopology(opts: { name?: string; topic?: string; statsTopic?: string } = {}, env: Env = process.env): Topology<Reading> {
  const cfg = loadConfig(hourlySchema, env);
  const statsTopic = opts.statsTopic ?? 'sensor-stats-hourly';
  return defineTopology<Reading>({
    name: opts.name ?? 'hourly-aggregates',
    description: `hourly count/sum/min/max/avg per device and sensor → ${statsTopic} and sensor_stats_hourly`,
    source: { topic: opts.topic ?? 'sensor-readings', schema: 'sensor-readings' },
    pipeline: (src) => src.pipe(
      windowedAggregate<Reading, Stats>({
        store: 'hourly',
        window: TimeWindows.tumbling({ size: hours(1), grace: cfg.HOURLY_GRACE_MS }),
        key: (r) => `${r.value.device_id}\u0000${r.value.sensor_type}`,
        initial: () => ({ device_id: '', sensor_type: '', count: 0, sum: 0, min: Infinity, max: -Infinity }),
        add: (s, r) => ({
          device_id: r.value.device_id, sensor_type: r.value.sensor_type, count: s.count + 1, sum: s.sum + r.value.value,
          min: Math.min(s.min, r.value.value), max: Math.max(s.max, r.value.value),
        }),
        emit: 'final',
        buffer: { maxWindows: cfg.HOURLY_MAX_WINDOWS, whenFull: 'fail' },
        idleTimeout: cfg.HOURLY_IDLE_MS || undefined,
        emitLate: true,
      }),
      mergeMap((w): OutRecord[] => {
        if ('late' in w) {
          const { device_id, sensor_type, value, unit, time, time_us, time_source } = w.record.value;
          return [{ to: 'table', key: device_id, value: { kind: 'late', device_id, sensor_type, value, unit, time, time_us, time_source } satisfies LateReading }];
        }
        const s = w.value;
        const avg = s.sum / s.count;
        return [
          { to: 'topic', key: s.device_id, value: { device_id: s.device_id, sensor_type: s.sensor_type, bucket: w.start, bucket_end: w.end, count: s.count, sum: s.sum, min: s.min, max: s.max, avg } satisfies HourlyStats },
          { to: 'table', key: s.device_id, value: { kind: 'final', bucket: w.start, device_id: s.device_id, sensor_type: s.sensor_type, avg_value: avg, min_value: s.min, max_value: s.max, count: s.count, sum: s.sum } satisfies HourlyRow },
        ];
      }),
    ),
    sinks: {
      topic: kafkaSink({ topic: statsTopic, schema: 'sensor-stats-hourly' }),
      // The state store says where processing resumes; a batch processed again upserts the same rows.
      table: hourlyStatsSink(env),
    },
  });
}

/** The shipped `hourly-aggregates` (HOURLY_*, TIMESCALE_*). */
export const hourlyAggregates: TopologyEntry = {
  name: 'hourly-aggregates',
  description: 'hourly count/sum/min/max/avg per device and sensor → sensor-stats-hourly and sensor_stats_hourly',
  opsPort: 9467,
  settings: [hourlySchema, timescaleSchema],
  configure: (env) => hourlyAggregatesTopology({}, env),
};
