import type { Entry } from '../core/index.ts';
import { ingest } from './ingest.ts';
import { timescaleSinkEntry } from './timescale-sink.ts';
import { alerting } from './alerting.ts';
import { hourlyAggregates } from './hourly-aggregates.ts';
import { archiver } from './archiver.ts';

/**
 * The topologies `bin/run-topology` knows, in an explicit list. Add yours here: a `defineTopology`
 * value, or a `TopologyEntry` (core/runtime/cli.ts) that builds it from the environment of the
 * process that runs it. Each has its own ops port, so that they run side by side; 3000 (a
 * dashboard) and 9469 (an influx sink) are taken too. Source connectors such as `ingest` are listed
 * and run the same way.
 */
export const topologies: Entry[] = [ingest, timescaleSinkEntry, alerting, hourlyAggregates, archiver];
