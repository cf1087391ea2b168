// Topologies for bin/replay's integration tests: topic and group names come from SLUICE_TEST_ID.
import { map } from 'rxjs';
import { defineTopology, windowedAggregate, TimeWindows, minutes, type InRecord } from '../../index.ts';
import { timescaleSinkTopology } from '../../../topologies/timescale-sink.ts';
import type { Reading } from '../../../schemas/records.ts';
import { timescaleSink } from '../../../sinks/timescale/table-sink.ts';
import { sensorData, validateTable } from '../../../sinks/timescale/table.ts';
import { archiverTopology } from '../../../topologies/archiver.ts';
import { hourlyAggregatesTopology } from '../../../topologies/hourly-aggregates.ts';
import { alertingTopology } from '../../../topologies/alerting.ts';

const id = process.env.SLUICE_TEST_ID ?? 'replay-test';

/** Readings per device and 5-minute window, upserted by (device_id, window_start). */
const deviceStats = validateTable({
  name: 'device_stats',
  columns: [{ name: 'device_id', type: 'text' }, { name: 'window_start', type: 'timestamptz' }, { name: 'n', type: 'bigint' }, { name: 'total', type: 'double precision' }],
  conflict: { key: ['device_id', 'window_start'], action: 'update' },
});

export const topologies = [
  timescaleSinkTopology({ name: `${id}-tsdb`, topic: `${id}.in` }),
  // A table added later, filled from the start of the topic by a replay.
  timescaleSinkTopology({ name: `${id}-backfill`, topic: `${id}.in`, table: { ...sensorData, name: 'sensor_data_backfill' } }),
  // A topic whose log start was moved by retention (only planned, never run).
  timescaleSinkTopology({ name: `${id}-short`, topic: `${id}.short` }),
  archiverTopology({ name: `${id}-archiver`, topic: `${id}.in` }),
  // The shipped hourly aggregation, and the sink that loads sensor_data, on a topic of older readings.
  hourlyAggregatesTopology({ name: `${id}-hourly`, topic: `${id}.hours`, statsTopic: `${id}.stats` }),
  timescaleSinkTopology({ name: `${id}-hours-db`, topic: `${id}.hours` }),
  alertingTopology({ name: `${id}-alerting`, topic: `${id}.hours`, alertsTopic: `${id}.alerts` }),
  defineTopology<Reading>({
    name: `${id}-windows`,
    description: 'readings per device and 5 minutes',
    source: { topic: `${id}.in`, schema: 'sensor-readings' },
    pipeline: (src) => src.pipe(
      windowedAggregate<Reading, { n: number; total: number }>({
        store: 'stats', window: TimeWindows.tumbling({ size: minutes(5), grace: 0 }), key: (r: InRecord<Reading>) => r.value.device_id,
        initial: () => ({ n: 0, total: 0 }), add: (a, r) => ({ n: a.n + 1, total: a.total + r.value.value }),
        emit: 'final', buffer: { maxWindows: 10_000, whenFull: 'fail' },
      }),
      map((w) => ({ to: 'db', key: w.key, value: { device_id: w.key, window_start: w.start, n: w.value.n, total: w.value.total } })),
    ),
    sinks: { db: timescaleSink(deviceStats) },
  }),
];
