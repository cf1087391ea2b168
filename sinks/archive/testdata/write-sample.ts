// Writes a sample Parquet file of readings with one of the archive's writers (run by Node, since
// hyparquet-writer is an ES module that jest cannot load): write-sample.ts <writer> <compression> <file> <rows>
import { writeFileSync } from 'node:fs';
import { parquetFormat, type Compression } from '../file-format.ts';
import { hyparquetFormat } from '../hyparquet-format.ts';

const [writer, compression, file, rows] = process.argv.slice(2);
const opts = { compression: compression as Compression, rowGroupSize: 50_000 };
const w = await (writer === 'hyparquet-writer' ? hyparquetFormat(opts) : parquetFormat(opts)).open();
const base = Date.UTC(2026, 10, 27, 10);
for (let i = 0; i < Number(rows); i++) {
  await w.append({ partition: 2, offset: BigInt(1000 + i), reading: { device_id: `dev-${i % 9}`, sensor_type: 'humidity', value: i / 4, unit: '%', time: base + i * 100, ingest_time: base + i * 100 + 7 } });
}
writeFileSync(file!, await w.finish());
