// The shipped stateful topologies under test names: topics and groups come from SLUICE_TEST_ID.
import { hourlyAggregatesTopology } from '../hourly-aggregates.ts';
import { alertingTopology } from '../alerting.ts';

const id = process.env.SLUICE_TEST_ID ?? 'topologies-test';

export const topologies = [
  hourlyAggregatesTopology({ name: `${id}-hourly`, topic: `${id}.in`, statsTopic: `${id}.stats` }),
  alertingTopology({ name: `${id}-alerting`, topic: `${id}.in`, alertsTopic: `${id}.alerts` }),
];
