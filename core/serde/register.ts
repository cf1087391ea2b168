import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import avro from 'avsc';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { valueSubject } from '../naming.ts';
import { readSchema } from './avro.ts';
import type { RegistryClient } from './registry.ts';

const level = z.enum(['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE']);
type Level = z.infer<typeof level>;
const levelsFile = z.object({ default: level.default('BACKWARD_TRANSITIVE'), subjects: z.record(z.string(), level).default({}) });

export interface SchemaOutcome {
  subject: string;
  file: string;
  level: Level;
  status: 'unchanged' | 'registered' | 'would register' | 'refused';
  version?: number;
  id?: number;
  reasons: string[];
}

/** `schemas/compatibility.json`: the level each subject is checked at (default BACKWARD_TRANSITIVE). */
export function readLevels(dir: string): z.infer<typeof levelsFile> {
  const file = join(dir, 'compatibility.json');
  let json: unknown = {};
  try {
    if (existsSync(file)) json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
  const parsed = levelsFile.safeParse(json);
  if (!parsed.success) throw new ConfigError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Why `next` may not follow `previous` at `lvl` (empty when it may). Avro's resolution rules decide. */
export function incompatibilities(next: string, previous: string[], lvl: Level): string[] {
  if (lvl === 'NONE' || previous.length === 0) return [];
  const against = lvl.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const nextType = avro.Type.forSchema(JSON.parse(next));
  const reasons: string[] = [];
  for (const [i, old] of against.entries()) {
    const oldType = avro.Type.forSchema(JSON.parse(old));
    const label = lvl.endsWith('_TRANSITIVE') ? `version ${i + 1}` : 'the latest version';
    const attempt = (reader: avro.Type, writer: avro.Type, what: string) => {
      try {
        reader.createResolver(writer);
      } catch (err) {
        reasons.push(`${what} ${label}: ${(err as Error).message}`);
      }
    };
    if (lvl.startsWith('BACKWARD') || lvl.startsWith('FULL')) attempt(nextType, oldType, 'new schema cannot read data written with');
    if (lvl.startsWith('FORWARD') || lvl.startsWith('FULL')) attempt(oldType, nextType, 'readers of');
  }
  return reasons;
}

/**
 * Registers `<dir>/<topic>.avsc` under `<topic>-value`, each after a compatibility check: Avro's
 * rules at the configured level against the registered versions, and the registry's own check.
 * Never changes a subject's compatibility level.
 */
export async function registerSchemas(registry: RegistryClient, dir: string, dryRun: boolean): Promise<SchemaOutcome[]> {
  const levels = readLevels(dir);
  const files = readdirSync(dir).filter((f) => f.endsWith('.avsc')).sort();
  const outcomes: SchemaOutcome[] = [];
  for (const file of files) {
    const topic = basename(file, '.avsc');
    const subject = valueSubject(topic);
    const schema = readSchema(topic, dir);
    const lvl = levels.subjects[subject] ?? levels.default;
    const base = { subject, file, level: lvl, reasons: [] as string[] };

    const existing = await registry.lookup(subject, schema);
    if (existing) {
      outcomes.push({ ...base, status: 'unchanged', ...existing });
      continue;
    }
    const versions = await registry.versions(subject);
    const previous = await Promise.all(versions.map(async (v) => (await registry.version(subject, v)).schema));
    const reasons = incompatibilities(schema, previous, lvl);
    if (versions.length > 0) {
      const remote = await registry.testCompatibility(subject, schema);
      if (!remote.compatible) {
        const messages = remote.messages.length > 0 ? remote.messages : ['not compatible'];
        reasons.push(...messages.map((m) => `registry: ${m}`));
      }
    }
    if (reasons.length > 0) {
      outcomes.push({ ...base, status: 'refused', reasons });
    } else if (dryRun) {
      outcomes.push({ ...base, status: 'would register', version: (versions.at(-1) ?? 0) + 1 });
    } else {
      const { id } = await registry.register(subject, schema);
      const found = await registry.lookup(subject, schema);
      outcomes.push({ ...base, status: 'registered', id, version: found?.version });
    }
  }
  return outcomes;
}
