import { createMetrics } from './metrics.ts';

test('metric names follow Prometheus conventions: one sluice_ prefix, counters in _total, units in the name', async () => {
  const { registry } = createMetrics('names');
  const text = await registry.metrics();
  expect(text).toMatch(/^sluice_process_cpu_seconds_total\{topology="names"\} /m);
  expect(text).toMatch(/^sluice_nodejs_heap_size_total_bytes\{topology="names"\} /m);
  expect(text).not.toMatch(/process_process|sluice_sluice/);
  const metrics = await registry.getMetricsAsJSON();
  for (const m of metrics) {
    expect(m.name).toMatch(/^sluice_[a-z0-9_]+$/);
    if (String(m.type) === 'counter') expect(m.name).toMatch(/_total$/);
    // prom-client's own gauge nodejs_active_resources_total is its business; ours are not named like counters.
    else if (!/^sluice_(nodejs|process)_/.test(m.name)) expect(m.name).not.toMatch(/_total$/);
  }
  expect(metrics.map((m) => m.name)).toEqual(expect.arrayContaining(['sluice_records_in_total', 'sluice_commit_seconds', 'sluice_store_restore_seconds']));
});
