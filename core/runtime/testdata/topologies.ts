// Topologies for the runtime's integration tests; topic names come from SLUICE_TEST_ID so that
// every test run has its own.
import { map } from 'rxjs';
import { defineTopology, kafkaSink, windowedAggregate, TimeWindows, hours, type InRecord } from '../../index.ts';
import type { Reading } from '../../../schemas/records.ts';

export type { Reading };

const id = process.env.SLUICE_TEST_ID ?? 'runtime-test';
/** Several windowed-count runs (each its own group, changelog and output) can read one input. */
const input = process.env.SLUICE_TEST_INPUT ?? `${id}.in`;

export const topologies = [
  defineTopology<Reading>({
    name: `${id}-passthrough`,
    description: 'copies readings from <id>.in to <id>.out, doubling nothing',
    source: { topic: `${id}.in`, schema: 'sensor-readings' },
    pipeline: map((r: InRecord<Reading>) => ({ to: 'out', key: r.key, value: r.value })),
    sinks: { out: kafkaSink({ topic: `${id}.out`, schema: 'sensor-readings' }) },
  }),
  ...(['fail', 'dead-letter'] as const).map((policy) => defineTopology<Reading>({
    name: `${id}-${policy === 'fail' ? 'failing' : 'forgiving'}`,
    description: `like passthrough, but its pipeline throws on a negative reading (onPipelineError: ${policy})`,
    source: { topic: `${id}.in`, schema: 'sensor-readings' },
    pipeline: map((r: InRecord<Reading>) => {
      if (r.value.value < 0) throw new Error(`negative reading from ${r.value.device_id}`);
      return { to: 'out', key: r.key, value: r.value };
    }),
    sinks: { out: kafkaSink({ topic: `${id}.out`, schema: 'sensor-readings' }) },
    onPipelineError: policy,
  })),
  windowedCount(`${id}-windowed-count`, input, `${id}.out`),
];

/** Readings per device and UTC hour of `input`, emitted to `output` when the hour closes (state store `counts`). */
export function windowedCount(name: string, input: string, output: string) {
  return defineTopology<Reading>({
    name,
    description: 'readings per device and UTC hour, emitted when the hour closes',
    source: { topic: input, schema: 'sensor-readings' },
    pipeline: (src) => src.pipe(
      windowedAggregate<Reading, number>({
        store: 'counts', window: TimeWindows.tumbling({ size: hours(1), grace: 0 }),
        initial: () => 0, add: (n) => n + 1, emit: 'final', buffer: { maxWindows: 100_000, whenFull: 'fail' },
      }),
      // The count travels in a SensorReading: value = count, time = window start, ingest_time = window end.
      map((w) => ({ to: 'out', key: w.key, value: { device_id: w.key, sensor_type: 'count', value: w.value, unit: 'records', time: w.start, ingest_time: w.end } })),
    ),
    sinks: { out: kafkaSink({ topic: output, schema: 'sensor-readings' }) },
  });
}
