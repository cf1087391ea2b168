// Archivers for the integration tests, on the topic <SLUICE_TEST_ID>.in; two consumer groups, so
// that an interrupted and an uninterrupted run can read the same records.
import { archiverTopology } from '../../../topologies/archiver.ts';

const id = process.env.SLUICE_TEST_ID ?? 'archive-test';

export const topologies = ['a', 'b'].map((run) => archiverTopology({ name: `${id}-archiver-${run}`, topic: `${id}.in` }));
