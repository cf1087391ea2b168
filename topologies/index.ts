import type { SourceConnector, Topology } from '../core/index.ts';
import { ingest } from './ingest.ts';
import { archiver } from './archiver.ts';
import { timescaleSinkTopology } from './timescale-sink.ts';
import { hourlyAggregatesTopology } from './hourly-aggregates.ts';
import { alertingTopology } from './alerting.ts';

/**
 * The topologies `bin/run-topology` knows, in an explicit list. Add yours here. Source connectors
 * such as `ingest` are listed and run the same way.
 */
export const topologies: (Topology<any> | SourceConnector)[] = [ingest, timescaleSinkTopology(), alertingTopology(), hourlyAggregatesTopology(), archiver];
