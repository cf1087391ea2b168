import { rolesSql, schemaSql } from './schema.ts';

// TimescaleDB is not installed here: its path is checked as generated SQL.
test('with TimescaleDB: hypertable, unique index with time, compression by device, continuous aggregate', () => {
  const sql = schemaSql({ timescale: true }).join(';\n');
  expect(sql).toMatch(/^CREATE EXTENSION IF NOT EXISTS timescaledb/);
  expect(sql).toContain("create_hypertable('sensor_data', by_range('time', INTERVAL '1 day'), if_not_exists => TRUE)");
  expect(sql).toContain('CREATE UNIQUE INDEX IF NOT EXISTS sensor_data_device_sensor_time ON sensor_data (device_id, sensor_type, time DESC)');
  expect(sql).toContain("timescaledb.compress_segmentby = 'device_id'");
  expect(sql).toContain("add_compression_policy('sensor_data'");
  expect(sql).toMatch(/CREATE MATERIALIZED VIEW IF NOT EXISTS sensor_hourly WITH \(timescaledb.continuous\)[\s\S]*time_bucket\(INTERVAL '1 hour', time\)[\s\S]*WITH NO DATA/);
  expect(sql).not.toContain('add_retention_policy');
  expect(sql).not.toContain('CREATE OR REPLACE FUNCTION time_bucket');
  // The hypertable is created before its index and policies.
  expect(sql.indexOf('create_hypertable')).toBeLessThan(sql.indexOf('CREATE UNIQUE INDEX'));
});

test('with TimescaleDB no retention policy drops chunks (it would not ask the archive); one from an older schema is removed', () => {
  const sql = schemaSql({ timescale: true }).join(';\n');
  expect(sql).not.toContain('add_retention_policy');
  expect(sql).toContain("remove_retention_policy('sensor_data', if_exists => TRUE)");
});

test('plain PostgreSQL: no extension objects, a time_bucket function and a sensor_hourly view', () => {
  const sql = schemaSql({ timescale: false }).join(';\n');
  expect(sql).not.toMatch(/timescaledb|hypertable|_policy/);
  expect(sql).toContain('CREATE OR REPLACE FUNCTION time_bucket(bucket_width interval, ts timestamptz)');
  expect(sql).toContain('CREATE OR REPLACE VIEW sensor_hourly');
});

test('roles: the writer inserts and keeps offsets, the reader only selects; role names are validated', () => {
  const sql = rolesSql('sluice', 'w', 'r').join(';\n');
  expect(sql).toContain('GRANT SELECT, INSERT ON sensor_data TO "w"');
  expect(sql).toContain('GRANT SELECT, INSERT, UPDATE ON sluice_sink_offsets, sensor_stats_hourly, alerts TO "w"');
  expect(sql).toContain('GRANT SELECT ON sensor_data, sensor_hourly, sensor_stats_hourly, alerts TO "r"');
  expect(sql).not.toMatch(/(INSERT|UPDATE|DELETE)[^;]* TO "r"/);
  expect(() => rolesSql('sluice', "w'; drop", 'r')).toThrow('writer role must match');
});
