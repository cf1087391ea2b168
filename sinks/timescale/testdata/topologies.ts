// Topologies for the sink's integration tests: topic and group names come from SLUICE_TEST_ID.
import { mergeMap } from 'rxjs';
import { defineTopology, kafkaSink, type InRecord } from '../../../core/index.ts';
import { timescaleSinkTopology } from '../../../topologies/timescale-sink.ts';
import type { Reading } from '../../../schemas/records.ts';
import { timescaleSink } from '../table-sink.ts';
import { sensorData } from '../table.ts';

const id = process.env.SLUICE_TEST_ID ?? 'timescale-test';

export const topologies = [
  timescaleSinkTopology({ name: `${id}-tsdb`, topic: `${id}.in` }),
  // Without a unique key, a row written twice stays twice: only the offsets can keep it exactly-once.
  timescaleSinkTopology({ name: `${id}-nokey`, topic: `${id}.in`, table: { ...sensorData, name: 'sensor_data_nokey', conflict: undefined } }),
  // A sink that keeps its offsets in the database beside one that does not: each reading goes to both.
  defineTopology<Reading>({
    name: `${id}-both`,
    description: 'sensor_data_nokey and a copy on <id>.copy',
    source: { topic: `${id}.in`, schema: 'sensor-readings' },
    pipeline: mergeMap((r: InRecord<Reading>) => [{ to: 'db', key: r.key, value: r.value }, { to: 'copy', key: r.key, value: r.value }]),
    sinks: { db: timescaleSink({ ...sensorData, name: 'sensor_data_nokey', conflict: undefined }), copy: kafkaSink({ topic: `${id}.copy`, schema: 'sensor-readings' }) },
  }),
];
