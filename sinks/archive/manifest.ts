// The manifest of each closed archive file: where the archiver writes it, its format, and how
// bin/retention reads them back. One definition for both.
import { ListObjectsV2Command, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';

/**
 * One closed file, as written next to the data at `<prefix>/_manifests/partition=<p>/<start>-<end>.json`:
 * Kafka offsets of its first and last row (inclusive, decimal strings), the smallest and largest event
 * time (ISO 8601 UTC), and every event-time UTC hour it holds rows of (`YYYY-MM-DDTHH`, ascending).
 */
export const manifestSchema = z.object({
  key: z.string(),
  partition: z.number().int().min(0),
  startOffset: z.string().regex(/^\d+$/),
  endOffset: z.string().regex(/^\d+$/),
  rows: z.number().int().min(0),
  minTime: z.iso.datetime({ offset: true }),
  maxTime: z.iso.datetime({ offset: true }),
  hours: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}$/)),
});
export type Manifest = z.output<typeof manifestSchema>;

const pad = (n: bigint) => n.toString().padStart(20, '0');

/** The folder of every partition's manifests. */
export const manifestsRoot = (prefix: string) => `${prefix}/_manifests/`;

/** The folder of one partition's manifests; keys sort by offset. */
export const manifestFolder = (prefix: string, partition: number) => `${manifestsRoot(prefix)}partition=${partition}/`;

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

/** Every manifest under `<prefix>/_manifests/`; a manifest that does not parse is an error naming its key. */
export async function readManifests(s3: S3Client, bucket: string, prefix: string): Promise<Manifest[]> {
  const out: Manifest[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: manifestsRoot(prefix), ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (!o.Key?.endsWith('.json')) continue;
      const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }))).Body!.transformToString();
      const parsed = manifestSchema.safeParse(JSON.parse(body));
      if (!parsed.success) throw new Error(`manifest s3://${bucket}/${o.Key} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      out.push(parsed.data);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}
