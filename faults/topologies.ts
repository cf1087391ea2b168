// The pipeline under the fault suite's names (`bin/run-topology <name> --topologies faults/topologies.ts`):
// topics, consumer groups, changelogs and archive prefix come from SLUICE_FAULTS_ID, so that a run
// never reads or commits for a user's pipeline. `ingest` is the shipped connector: its topic, client id
// and MQTT topic template come from INGEST_TOPIC, MQTT_CLIENT_ID and MQTT_TOPIC_TEMPLATE (the suite sets them).
import type { Entry, TopologyEntry } from '../core/runtime/cli.ts';
import { timescaleSchema } from '../sinks/timescale/timescale-settings.ts';
import { archiveSchema } from '../sinks/archive/archive-settings.ts';
import { alertingSchema } from '../topologies/alerting/rules.ts';
import { alertingTopology } from '../topologies/alerting.ts';
import { hourlyAggregatesTopology, hourlySchema } from '../topologies/hourly-aggregates.ts';
import { timescaleSinkTopology } from '../topologies/timescale-sink.ts';
import { archiverTopology } from '../topologies/archiver.ts';
import { ingest } from '../topologies/ingest.ts';

/** Topics and consumer groups of the run `id`. */
export const runNames = (id: string) => ({
  readings: `${id}.readings`,
  alerts: `${id}.alerts`,
  stats: `${id}.stats`,
  /** A topology's name in this run, also its consumer group and the prefix of its changelogs. */
  topology: (name: string) => (name === 'ingest' ? name : `${id}-${name}`),
});

const id = process.env.SLUICE_FAULTS_ID ?? 'faults';
const n = runNames(id);

// Ops port 0 (any free one) unless SLUICE_OPS_PORT says: never a default port of a user's pipeline.
const entry = (name: string, settings: TopologyEntry['settings'], configure: TopologyEntry['configure']): TopologyEntry =>
  ({ name: n.topology(name), description: `${name} of the fault suite's run ${id}`, opsPort: 0, settings, configure });

export const topologies: Entry[] = [
  ingest,
  entry('timescale-sink', [timescaleSchema], (env) => timescaleSinkTopology({ name: n.topology('timescale-sink'), topic: n.readings }, env)),
  entry('alerting', [alertingSchema, timescaleSchema], (env) => alertingTopology({ name: n.topology('alerting'), topic: n.readings, alertsTopic: n.alerts }, env)),
  entry('hourly-aggregates', [hourlySchema, timescaleSchema], (env) => hourlyAggregatesTopology({ name: n.topology('hourly-aggregates'), topic: n.readings, statsTopic: n.stats }, env)),
  entry('archiver', [archiveSchema], (env) => archiverTopology({ name: n.topology('archiver'), topic: n.readings }, env)),
];
