import { assertTopologyName, changelogTopic, consumerGroup, valueSubject } from './naming.ts';

test('internal names derive from the topology and store names only', () => {
  expect(consumerGroup('hourly-aggregates')).toBe('hourly-aggregates');
  expect(changelogTopic('hourly-aggregates', 'window-counts')).toBe('hourly-aggregates-window-counts-changelog');
  expect(valueSubject('sensor-readings')).toBe('sensor-readings-value');
});

test('topology names are checked, and the error names the value', () => {
  expect(() => assertTopologyName('Bad Name')).toThrow(/topology name must match .* got "Bad Name"/);
  expect(() => assertTopologyName('alerting')).not.toThrow();
});
