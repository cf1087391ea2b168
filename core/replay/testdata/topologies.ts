// Topologies for bin/replay's integration tests: topic and group names come from SLUICE_TEST_ID.
import { timescaleSinkTopology } from '../../../topologies/timescale-sink.ts';
import { sensorData } from '../../../sinks/timescale/table.ts';

const id = process.env.SLUICE_TEST_ID ?? 'replay-test';

export const topologies = [
  timescaleSinkTopology({ name: `${id}-tsdb`, topic: `${id}.in` }),
  // A table added later, filled from the start of the topic by a replay.
  timescaleSinkTopology({ name: `${id}-backfill`, topic: `${id}.in`, table: { ...sensorData, name: 'sensor_data_backfill' } }),
  // A topic whose log start was moved by retention (only planned, never run).
  timescaleSinkTopology({ name: `${id}-short`, topic: `${id}.short` }),
];
