// Topologies for the runtime's integration tests; topic names come from SLUICE_TEST_ID so that
// every test run has its own.
import { map } from 'rxjs';
import { defineTopology, kafkaSink, type InRecord } from '../../index.ts';

export interface Reading {
  device_id: string;
  sensor_type: string;
  value: number;
  unit: string;
  time: number;
  ingest_time: number;
}

const id = process.env.SLUICE_TEST_ID ?? 'runtime-test';

export const topologies = [
  defineTopology<Reading>({
    name: `${id}-passthrough`,
    description: 'copies readings from <id>.in to <id>.out, doubling nothing',
    source: { topic: `${id}.in`, schema: 'sensor-readings' },
    pipeline: map((r: InRecord<Reading>) => ({ to: 'out', key: r.key, value: r.value })),
    sinks: { out: kafkaSink({ topic: `${id}.out`, schema: 'sensor-readings' }) },
  }),
  defineTopology<Reading>({
    name: `${id}-failing`,
    description: 'like passthrough, but its pipeline throws on a negative reading',
    source: { topic: `${id}.in`, schema: 'sensor-readings' },
    pipeline: map((r: InRecord<Reading>) => {
      if (r.value.value < 0) throw new Error(`negative reading from ${r.value.device_id}`);
      return { to: 'out', key: r.key, value: r.value };
    }),
    sinks: { out: kafkaSink({ topic: `${id}.out`, schema: 'sensor-readings' }) },
  }),
];
