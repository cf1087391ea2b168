// A stateful topology for unit tests of the runtime's partition tasks: counts records per key.
import { map } from 'rxjs';
import { defineTopology, type InRecord } from '../../topology.ts';
import { stateful } from '../../operators/stateful.ts';

export const t0 = Date.UTC(2026, 10, 27);
export const counting = defineTopology<{ time: number }>({
  name: 'counting',
  description: 'counts records per key',
  source: { topic: 'in', schema: 'sensor-readings' },
  sinks: { out: () => Promise.reject(new Error('not built here')) },
  pipeline: (src) => src.pipe(
    stateful<{ time: number }, number, string>({ store: 'counts', onRecord: (r, store) => store.put(r.key!, (store.get(r.key!) ?? 0) + 1) }),
    map((v) => ({ to: 'out', key: null, value: v })),
  ),
});
export const rec = (offset: number): InRecord<{ time: number }> =>
  ({ topic: 'in', partition: 0, offset: String(offset), key: 'k', value: { time: t0 }, timestamp: t0, eventTime: t0, headers: {} });

