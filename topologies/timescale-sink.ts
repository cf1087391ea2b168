import { map } from 'rxjs';
import { defineTopology, type InRecord, type Topology, type Env, type TopologyEntry } from '../core/index.ts';
import { timescaleSink } from '../sinks/timescale/table-sink.ts';
import { timescaleSchema } from '../sinks/timescale/timescale-settings.ts';
import { sensorData, type TableSpec } from '../sinks/timescale/table.ts';
import type { Reading } from '../schemas/records.ts';

/** sensor-readings → sensor_data, exactly once (offsets kept in the database). */
export function timescaleSinkTopology(opts: { name?: string; topic?: string; table?: TableSpec } = {}, env: Env = process.env): Topology<Reading> {
  return defineTopology<Reading>({
    name: opts.name ?? 'timescale-sink',
    description: 'loads sensor-readings into the sensor_data table with COPY, exactly once',
    source: { topic: opts.topic ?? 'sensor-readings', schema: 'sensor-readings' },
    // The sink reads the table's columns by name from the reading (ingest_time is not one of them).
    pipeline: map((r: InRecord<Reading>) => ({ to: 'db', key: r.key, value: r.value })),
    sinks: { db: timescaleSink(opts.table ?? sensorData, {}, env) },
  });
}

/** The shipped `timescale-sink` (TIMESCALE_*). */
export const timescaleSinkEntry: TopologyEntry = {
  name: 'timescale-sink',
  description: 'loads sensor-readings into the sensor_data table with COPY, exactly once',
  opsPort: 9465,
  settings: [timescaleSchema],
  configure: (env) => timescaleSinkTopology({}, env),
};
