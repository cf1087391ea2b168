// Where archived files and their manifests live in the bucket (or folder). The manifest format is
// read by bin/retention: do not change it without changing that.

const hourMs = 3_600_000;

/** The UTC hour of a time in ms, as `YYYY-MM-DDTHH`. */
export function hourLabel(timeMs: number): string {
  return new Date(Math.floor(timeMs / hourMs) * hourMs).toISOString().slice(0, 13);
}

/** Epoch hour number of a time in ms (hours since 1970-01-01T00Z). */
export const hourOf = (timeMs: number) => Math.floor(timeMs / hourMs);

/** `<prefix>/date=YYYY-MM-DD/hour=HH/`: the folder of files whose event-time hour is `hour`. */
export function hourFolder(prefix: string, hour: number): string {
  const label = hourLabel(hour * hourMs);
  return `${prefix}/date=${label.slice(0, 10)}/hour=${label.slice(11, 13)}/`;
}

/** `<prefix>/date=…/hour=…/<partition>-<startOffset>-<endOffset>.parquet`; offsets inclusive. */
export function dataKey(prefix: string, hour: number, partition: number, start: bigint, end: bigint): string {
  return `${hourFolder(prefix, hour)}${partition}-${start}-${end}.parquet`;
}

const pad = (n: bigint) => n.toString().padStart(20, '0');

/** The folder of one partition's manifests; keys sort by offset. */
export const manifestFolder = (prefix: string, partition: number) => `${prefix}/_manifests/partition=${partition}/`;

/** The start of the manifest keys of files that begin at `start`. */
export const manifestsFrom = (prefix: string, partition: number, start: bigint) => `${manifestFolder(prefix, partition)}${pad(start)}-`;

export function manifestKey(prefix: string, partition: number, start: bigint, end: bigint): string {
  return `${manifestsFrom(prefix, partition, start)}${pad(end)}.json`;
}

/** What a manifest key says: its offset range. */
export function manifestRange(key: string): { start: bigint; end: bigint } | undefined {
  const m = /(\d{20})-(\d{20})\.json$/.exec(key);
  return m ? { start: BigInt(m[1]!), end: BigInt(m[2]!) } : undefined;
}

/** One closed file, as written next to the data in `_manifests/partition=<p>/`. */
export interface Manifest {
  key: string;
  partition: number;
  /** Kafka offsets of the first and last row, inclusive, as decimal strings. */
  startOffset: string;
  endOffset: string;
  rows: number;
  /** Smallest and largest event time of the rows, ISO 8601 UTC. */
  minTime: string;
  maxTime: string;
  /** Every event-time UTC hour the file holds rows of, `YYYY-MM-DDTHH`, ascending. */
  hours: string[];
}
