import { z } from 'zod';
import { ConfigError } from './errors.ts';

/** The environment, or a part of it: what configuration is read from. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A comma-separated list of host:port. */
export const hostPorts = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1, 'expected at least one host:port'));

/** Variables whose values are never shown. Webhook URLs often carry their token in the path. */
const secretName = /PASSWORD|TOKEN|SECRET|KEY|CREDENTIAL|WEBHOOK_URL$/i;

/** `value` as it may be shown: `***` for a secret-looking `name`, URL passwords masked otherwise. */
export function maskSetting(name: string, value: string): string {
  if (secretName.test(name)) return '***';
  return value.replace(/(\/\/[^\s/?#@:]*):[^\s/?#@]*@/g, '$1:***@');
}

/** Echoed in errors only when nothing in it can be a credential. */
const echo = (name: string, value: string) =>
  secretName.test(name) || value.includes('@') ? '' : `, got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`;

function explainIssue(i: z.core.$ZodIssue): string {
  if (i.code === 'invalid_type' && i.expected === 'number') return 'expected a number';
  if (i.code === 'invalid_type' && i.expected === 'int') return 'expected a whole number';
  if (i.code === 'invalid_format' && i.format === 'url') return 'expected a URL';
  if (i.code === 'invalid_value') return `expected one of ${i.values.map(String).join(', ')}`;
  if ((i.code === 'too_small' || i.code === 'too_big') && i.origin === 'number') {
    return `must be ${i.code === 'too_small' ? '>' : '<'}${i.inclusive ? '=' : ''} ${'minimum' in i ? i.minimum : i.maximum}`;
  }
  return i.message;
}

/**
 * Validates `env` against `schema`. The error has one line per variable that is missing or wrong
 * (`ALERT_THRESHOLD: expected a number, got "abc"`); it repeats a value only when the variable's
 * name is not secret-looking (PASSWORD, TOKEN, SECRET, KEY) and the value holds no `@` (a URL's
 * credentials), so secrets cannot leak through it.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env = process.env): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const name = i.path.join('.');
    const value = env[String(i.path[0])];
    return `${name}: ${value === undefined ? 'not set' : `${explainIssue(i)}${echo(name, value)}`}`;
  });
  throw new ConfigError(lines.length === 1 ? lines[0]! : `invalid configuration:\n${lines.map((l) => `  ${l}`).join('\n')}`);
}

/** Where a field's default is, under the transforms and pipes around it (zod 4's internals). */
function defaultOf(field: z.ZodType): unknown {
  let def = (field as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  for (let depth = 0; depth < 8; depth++) {
    if (def.type === 'default' || def.type === 'prefault') return def.defaultValue;
    const inner = (def.in ?? def.innerType) as { _zod: { def: Record<string, unknown> } } | undefined;
    if (!inner) return undefined;
    def = inner._zod.def;
  }
  return undefined;
}

/**
 * Validates `env` against each schema (throwing ConfigError as `loadConfig` does), then lists the
 * variables they read, once each, as `NAME=value` with secrets masked (`maskSetting`); unset ones
 * show their default, `NAME=35 (default)` (`defaults` first: the process's own, such as its ops
 * port), or `NAME (not set)`.
 */
export function settingsLines(schemas: readonly z.ZodObject[], env: Env, defaults: Env = {}): string[] {
  for (const s of schemas) loadConfig(s, { ...defaults, ...env });
  const lines = new Map<string, string>();
  for (const schema of schemas) {
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      if (lines.has(name)) continue;
      const raw = env[name];
      const fallback = defaults[name] ?? defaultOf(field);
      const shown = typeof fallback === 'string' ? fallback : JSON.stringify(fallback);
      lines.set(name, raw !== undefined ? `${name}=${maskSetting(name, raw)}`
        : fallback !== undefined ? `${name}=${maskSetting(name, shown)} (default)` : `${name} (not set)`);
    }
  }
  return [...lines.values()];
}
