import { map } from 'rxjs';
import { defineTopology, type InRecord } from '../core/index.ts';
import { archiveSink } from '../sinks/archive/config.ts';
import type { Reading } from '../sinks/archive/format.ts';

/** Archives every reading to Parquet files in S3 (or a folder), by event-time hour. See the README. */
export const archiver = defineTopology<Reading>({
  name: 'archiver',
  description: 'archives sensor-readings as Parquet files in S3, partitioned by event-time hour',
  source: { topic: 'sensor-readings', schema: 'sensor-readings' },
  // The sink needs each record's partition and offset: it names files after offset ranges.
  pipeline: map((r: InRecord<Reading>) => ({ to: 'archive', key: r.key, value: r })),
  sinks: { archive: archiveSink() },
});
