// Topologies for the runtime's integration tests; topic names come from SLUICE_TEST_ID so that
// every test run has its own.
import { map } from 'rxjs';
import { defineTopology, kafkaSink, type InRecord } from '../../index.ts';
import type { Reading } from '../../../topologies/reading.ts';

export type { Reading };

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
