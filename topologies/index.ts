import type { Topology } from '../core/index.ts';
import { archiver } from './archiver.ts';
import { timescaleSinkTopology } from './timescale-sink.ts';
import { hourlyAggregatesTopology } from './hourly-aggregates.ts';
import { alertingTopology } from './alerting.ts';

/** The topologies `bin/run-topology` knows, in an explicit list. Add yours here. */
export const topologies: Topology<any>[] = [timescaleSinkTopology(), alertingTopology(), hourlyAggregatesTopology(), archiver];
