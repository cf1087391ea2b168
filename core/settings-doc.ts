import { z } from 'zod';

/** One setting as its declaration documents it (the zod schema's `.describe()`, default and bounds). */
export interface SettingDoc {
  readonly name: string;
  readonly required: boolean;
  /** As it would be written in the environment; undefined: none. */
  readonly default?: string;
  /** The values allowed: a list, a range, a format. */
  readonly allowed?: string;
  readonly description: string;
}

interface JsonProperty {
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  format?: string;
  type?: string;
}

const number = (n: number) => (Number.isSafeInteger(n) && Math.abs(n) >= 10_000 ? n.toLocaleString('en-US') : String(n));

function allowedOf(p: JsonProperty): string | undefined {
  if (p.enum) return p.enum.map(String).join(', ');
  // zod's int() bounds every whole number by the safe integers: no bound a reader needs.
  const min = p.minimum !== undefined && p.minimum > Number.MIN_SAFE_INTEGER ? p.minimum : undefined;
  const max = p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER ? p.maximum : undefined;
  if (min !== undefined && max !== undefined) return `${number(min)}–${number(max)}`;
  if (min !== undefined) return `≥ ${number(min)}`;
  if (max !== undefined) return `≤ ${number(max)}`;
  if (p.format === 'uri') return 'URL';
  return p.type === 'integer' ? 'whole number' : p.type === 'number' ? 'number' : undefined;
}

/**
 * The settings `schemas` read, each once (the first schema that declares it says what it is), from
 * their declarations: the README's tables and `--help` are made from this, so they cannot drift.
 * `except`: settings documented elsewhere (the runtime's, under a component that extends them).
 */
export function settingDocs(schemas: readonly z.ZodType[], except: readonly z.ZodObject[] = []): SettingDoc[] {
  const skip = new Set(except.flatMap((s) => Object.keys(s.shape)));
  const docs = new Map<string, SettingDoc>();
  for (const schema of schemas) {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonProperty>; required?: string[] };
    for (const [name, p] of Object.entries(json.properties ?? {})) {
      if (docs.has(name) || skip.has(name)) continue;
      const def = p.default === undefined ? undefined : typeof p.default === 'string' ? p.default : JSON.stringify(p.default);
      docs.set(name, { name, required: json.required?.includes(name) ?? false, default: def, allowed: allowedOf(p), description: p.description ?? '' });
    }
  }
  return [...docs.values()];
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** A Markdown table: setting, default, allowed values, what it does. */
export function settingsMarkdown(docs: readonly SettingDoc[]): string {
  const rows = docs.map((d) => `| \`${d.name}\` | ${d.required ? '(required)' : d.default === undefined ? 'not set' : `\`${cell(d.default)}\``} | ${cell(d.allowed ?? '')} | ${cell(d.description)} |`);
  return ['| Setting | Default | Allowed | What it does |', '|---|---|---|---|', ...rows].join('\n');
}

/** For `--help`: one entry per setting, its default or (required), the description wrapped at `width`. */
export function settingsHelp(docs: readonly SettingDoc[], width = 100): string {
  return docs.map((d) => {
    const head = `  ${d.name} ${d.required ? '(required)' : d.default === undefined ? '(not set)' : `(${d.default})`}${d.allowed ? ` ${d.allowed}` : ''}`;
    const words = d.description.split(/\s+/).filter(Boolean);
    const lines: string[] = [];
    let line = '     ';
    for (const w of words) {
      if (line.length + w.length + 1 > width && line.trim()) {
        lines.push(line);
        line = '     ';
      }
      line += ` ${w}`;
    }
    if (line.trim()) lines.push(line);
    return [head, ...lines].join('\n');
  }).join('\n');
}
