import type { Topology } from '../core/index.ts';

/**
 * The topologies `bin/run-topology` knows, in an explicit list. Add yours here.
 * (The shipped ones, ingest, timescale-sink, alerting, hourly-aggregates and archiver, arrive with
 * their issues.)
 */
export const topologies: Topology<any>[] = [];
