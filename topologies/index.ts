import type { Topology } from '../core/index.ts';
import { timescaleSinkTopology } from './timescale-sink.ts';

/**
 * The topologies `bin/run-topology` knows, in an explicit list. Add yours here.
 * (ingest, alerting, hourly-aggregates and archiver arrive with their issues.)
 */
export const topologies: Topology<any>[] = [timescaleSinkTopology()];
