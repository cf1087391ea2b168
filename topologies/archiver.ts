import { map } from 'rxjs';
import { defineTopology, type InRecord, type Topology, type Env, type TopologyEntry } from '../core/index.ts';
import { archiveSchema, archiveSink } from '../sinks/archive/archive-settings.ts';
import type { Reading } from '../sinks/archive/file-format.ts';

/** An archiver of `topic` (sensor readings) under consumer group `name`; the sink reads ARCHIVE_* and S3_*. */
export function archiverTopology(opts: { name: string; topic: string }, env: Env = process.env): Topology<Reading> {
  return defineTopology<Reading>({
    name: opts.name,
    description: `archives ${opts.topic} as Parquet files in S3 (or a folder), by event-time hour`,
    source: { topic: opts.topic, schema: 'sensor-readings' },
    // The sink names files after offset ranges: it gets the whole source record.
    pipeline: map((r: InRecord<Reading>) => ({ to: 'archive', key: r.key, value: r })),
    sinks: { archive: archiveSink(env) },
  });
}

/** The shipped `archiver` (ARCHIVE_*, S3_*); see the README's "Parquet archive". */
export const archiver: TopologyEntry = {
  name: 'archiver',
  description: 'archives sensor-readings as Parquet files in S3 (or a folder), by event-time hour',
  opsPort: 9468,
  settings: [archiveSchema],
  configure: (env) => archiverTopology({ name: 'archiver', topic: 'sensor-readings' }, env),
};
