// Topologies for the sink's integration tests: topic and group names come from SLUICE_TEST_ID.
import { timescaleSinkTopology } from '../../../topologies/timescale-sink.ts';
import { sensorData } from '../table.ts';

const id = process.env.SLUICE_TEST_ID ?? 'timescale-test';

export const topologies = [
  timescaleSinkTopology({ name: `${id}-tsdb`, topic: `${id}.in` }),
  // Without a unique key, a row written twice stays twice: only the offsets can keep it exactly-once.
  timescaleSinkTopology({ name: `${id}-nokey`, topic: `${id}.in`, table: { ...sensorData, name: 'sensor_data_nokey', conflict: undefined } }),
];
