import { loadConfig } from '../../core/config.ts';
import { archiveSchema } from './archive-settings.ts';

test('defaults: S3 bucket, prefix sensor_readings, GZIP, row groups of 100,000, files of at most 500,000 rows', () => {
  const c = loadConfig(archiveSchema, { S3_BUCKET: 'archive', S3_SECRET_ACCESS_KEY: 'hush' });
  expect(c).toMatchObject({
    S3_BUCKET: 'archive', ARCHIVE_PREFIX: 'sensor_readings', ARCHIVE_COMPRESSION: 'GZIP', ARCHIVE_WRITER: 'parquetjs-lite',
    ARCHIVE_ROW_GROUP_ROWS: 100_000, ARCHIVE_MAX_ROWS: 500_000, ARCHIVE_IDLE_MS: 60_000, ARCHIVE_WORKER_HEAP_MB: 256, S3_FORCE_PATH_STYLE: true,
  });
});

test('a bad setting is named, with what is wrong, and no value is repeated', () => {
  const env = { S3_SECRET_ACCESS_KEY: 'hush-hush', ARCHIVE_ROW_GROUP_ROWS: '4096', ARCHIVE_PREFIX: '/abs/../x', ARCHIVE_COMPRESSION: 'LZO' };
  let message = '';
  try {
    loadConfig(archiveSchema, env);
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/ARCHIVE_ROW_GROUP_ROWS: .*50000/);
  expect(message).toMatch(/ARCHIVE_PREFIX: expected path segments/);
  expect(message).toMatch(/ARCHIVE_COMPRESSION: /);
  expect(message).not.toContain('hush');
});

test('without a bucket, a local folder will do, and with neither the message says what to set', () => {
  expect(loadConfig(archiveSchema, { ARCHIVE_DIR: '/tmp/archive' }).ARCHIVE_DIR).toBe('/tmp/archive');
  expect(() => loadConfig(archiveSchema, {})).toThrow('S3_BUCKET or ARCHIVE_DIR: not set');
});
