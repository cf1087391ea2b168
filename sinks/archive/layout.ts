// Where archived files live in the bucket (or folder); their manifests: manifest.ts.

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
