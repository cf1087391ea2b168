import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus metrics of one topology process. prom-client's default metrics are already named
 * `process_*` and `nodejs_*`: with the prefix `sluice_` they are `sluice_process_cpu_seconds_total`,
 * `sluice_nodejs_heap_size_total_bytes`, …
 */
export function createMetrics(topology: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ topology });
  collectDefaultMetrics({ register: registry, prefix: 'sluice_' });
  const registers = [registry];
  return {
    registry,
    recordsIn: new Counter({ name: 'sluice_records_in_total', help: 'Source records consumed', labelNames: ['partition'], registers }),
    recordsOut: new Counter({ name: 'sluice_records_out_total', help: 'Records written, by sink', labelNames: ['sink'], registers }),
    deadLetters: new Counter({ name: 'sluice_dlq_records_total', help: 'Records sent to the dead-letter topic, by reason', labelNames: ['reason'], registers }),
    lag: new Gauge({ name: 'sluice_consumer_lag', help: 'Records between the last processed offset and the high watermark', labelNames: ['partition'], registers }),
    commitSeconds: new Histogram({ name: 'sluice_commit_seconds', help: 'Offset commit latency', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers }),
    restoreSeconds: new Gauge({ name: 'sluice_store_restore_seconds', help: 'Duration of the last restore of a state store from its changelog', labelNames: ['store'], registers }),
    restoredRecords: new Counter({ name: 'sluice_store_restored_records_total', help: 'Changelog records read while restoring state stores', labelNames: ['store'], registers }),
    storeEntries: new Gauge({ name: 'sluice_store_entries', help: 'Entries in a state store, by partition', labelNames: ['store', 'partition'], registers }),
    batchSize: new Histogram({ name: 'sluice_batch_records', help: 'Records per processed batch', buckets: [1, 10, 100, 500, 1000, 5000, 10000], registers }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
