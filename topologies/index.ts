import type { Topology } from '../core/index.ts';
import { archiver } from './archiver.ts';
import { timescaleSinkTopology } from './timescale-sink.ts';

/**
 * The topologies `bin/run-topology` knows, in an explicit list. Add yours here.
 * (The other shipped ones, ingest, alerting and hourly-aggregates, arrive with their issues.)
 */
export const topologies: Topology<any>[] = [timescaleSinkTopology(), archiver];
