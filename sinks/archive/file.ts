import type { ArchiveRow, FileWriter } from './file-format.ts';
import { dataKey, hourLabel, hourOf } from './layout.ts';
import { manifestKey, type Manifest } from './manifest.ts';

/** When a file closes: after `maxRows` rows or `maxBytes` estimated bytes (both decided by the rows alone). */
export interface FileLimits {
  maxRows: number;
  maxBytes: number;
}

/** Estimated in-memory size of a row before encoding: a function of the row only, so closes are deterministic. */
const estimate = (r: ArchiveRow) => 64 + 2 * (r.reading.device_id.length + r.reading.sensor_type.length + r.reading.unit.length);

/**
 * The open file of one partition: a contiguous offset range whose first row fixes its event-time
 * hour. A row of a later hour closes it (the end of its hour in stream time); rows of earlier hours
 * (late ones) stay in it, and its manifest lists every hour it holds.
 */
export class OpenFile {
  readonly partition: number;
  readonly start: bigint;
  readonly hour: number;
  end: bigint;
  rows = 0;
  private bytes = 0;
  private minTime = Infinity;
  private maxTime = -Infinity;
  private readonly hours = new Set<number>();
  private finished = false;

  private readonly writer: FileWriter;

  constructor(partition: number, writer: FileWriter, first: ArchiveRow) {
    this.partition = partition;
    this.writer = writer;
    this.start = first.offset;
    this.end = first.offset;
    this.hour = hourOf(first.reading.time);
  }

  /** False when `row` belongs to a later hour: close this file first. */
  accepts(row: ArchiveRow): boolean {
    return hourOf(row.reading.time) <= this.hour;
  }

  async add(row: ArchiveRow): Promise<void> {
    await this.writer.append(row);
    const t = row.reading.time;
    this.end = row.offset;
    this.rows += 1;
    this.bytes += estimate(row);
    this.minTime = Math.min(this.minTime, t);
    this.maxTime = Math.max(this.maxTime, t);
    this.hours.add(hourOf(t));
  }

  full(limits: FileLimits): boolean {
    return this.rows >= limits.maxRows || this.bytes >= limits.maxBytes;
  }

  finish(): Promise<Buffer> {
    this.finished = true;
    return this.writer.finish();
  }

  /** Drops the file unless it is finished already (being uploaded). */
  discard(): void {
    if (!this.finished) this.writer.discard?.();
  }

  keys(prefix: string): { data: string; manifest: string } {
    return { data: dataKey(prefix, this.hour, this.partition, this.start, this.end), manifest: manifestKey(prefix, this.partition, this.start, this.end) };
  }

  manifest(prefix: string): Manifest {
    return {
      key: this.keys(prefix).data,
      partition: this.partition,
      startOffset: this.start.toString(),
      endOffset: this.end.toString(),
      rows: this.rows,
      minTime: new Date(this.minTime).toISOString(),
      maxTime: new Date(this.maxTime).toISOString(),
      hours: [...this.hours].sort((a, b) => a - b).map((h) => hourLabel(h * 3_600_000)),
    };
  }
}
