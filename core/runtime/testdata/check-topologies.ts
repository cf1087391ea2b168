// Entries for the --check integration tests: the shipped alerting and archiver on topics of their own
// (names from SLUICE_TEST_ID), configured from the process's environment like the shipped entries.
import type { Entry } from '../cli.ts';
import { alertingTopology } from '../../../topologies/alerting.ts';
import { alertingSchema } from '../../../topologies/alerting/rules.ts';
import { archiverTopology } from '../../../topologies/archiver.ts';
import { archiveSchema } from '../../../sinks/archive/archive-settings.ts';
import { timescaleSchema } from '../../../sinks/timescale/timescale-settings.ts';

const id = process.env.SLUICE_TEST_ID ?? 'check-test';

export const topologies: Entry[] = [
  {
    name: `${id}-alerting`, description: 'alerting on <id>.in', opsPort: 9466, settings: [alertingSchema, timescaleSchema],
    configure: (env) => alertingTopology({ name: `${id}-alerting`, topic: `${id}.in`, alertsTopic: `${id}.alerts` }, env),
  },
  {
    name: `${id}-archiver`, description: 'archiver of <id>.in', opsPort: 9468, settings: [archiveSchema],
    configure: (env) => archiverTopology({ name: `${id}-archiver`, topic: `${id}.in` }, env),
  },
];
