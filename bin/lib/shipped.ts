import { fileURLToPath } from 'node:url';

/** The module listing the topologies Sluice ships: what bin/run-topology and bin/replay run without --topologies. */
export const shippedTopologies = fileURLToPath(new URL('../../topologies/index.ts', import.meta.url));
