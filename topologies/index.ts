import type { SourceConnector, Topology } from '../core/index.ts';
import { ingest } from './ingest.ts';

/**
 * The topologies `bin/run-topology` knows, in an explicit list. Add yours here.
 * (The shipped ones, timescale-sink, alerting, hourly-aggregates and archiver, arrive with their
 * issues.) Source connectors such as `ingest` are listed and run the same way.
 */
export const topologies: (Topology<any> | SourceConnector)[] = [ingest];
