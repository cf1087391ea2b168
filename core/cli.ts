import { inspect, parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, SluiceError } from './errors.ts';

/**
 * Runs a `bin/` command, then exits the process. The command line is parsed strictly with
 * `node:util` parseArgs (`config.args` defaults to `process.argv.slice(2)`); `run` gets the result
 * and returns the exit code. Exit codes and stderr:
 * - 2: an unknown option, a missing or wrong value, or a `ConfigError` thrown by `run`:
 *   `bin/x: <why>; see bin/x --help`;
 * - 1: any other error, thrown or unhandled: `bin/x: <its message and cause>`, one line.
 * With SLUICE_LOG_LEVEL=debug (or trace) the error's stack and causes follow that line.
 * Passwords in URLs and the values of secret-looking variables (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`,
 * `*ACCESS_KEY*`, 8 characters or more) are masked as `***`.
 *
 * @example await runCommand('bin/retention', { options: { help: { type: 'boolean', short: 'h' } } }, ({ values }) => retentionCommand(values));
 */
export async function runCommand<T extends ParseArgsConfig>(
  name: string,
  config: T,
  run: (parsed: ReturnType<typeof parseArgs<T>>) => Promise<number> | number,
): Promise<never> {
  const fail = (err: unknown): never => {
    const usage = err instanceof ConfigError || isParseError(err);
    console.error(redact(`${name}: ${oneLine(describe(err))}${usage ? `; see ${name} --help` : ''}`));
    if (/^(debug|trace)$/.test(process.env.SLUICE_LOG_LEVEL ?? '')) console.error(redact(inspect(err, { depth: 4 })));
    process.exit(usage ? 2 : 1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  try {
    process.exit(await run(parseArgs(config)));
  } catch (err) {
    return fail(err);
  }
}

/** Awaits `work`; its error becomes `<what>: <its cause>` (a ConfigError passes unchanged). */
export async function explain<T>(what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new SluiceError(`${what}: ${describe(err)}`, { cause: err });
  }
}

/** An error's message, completed by its cause's when that says more (`fetch failed: connect ECONNREFUSED …`). */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Node's connect errors to a name with several addresses are AggregateErrors without a message.
  const own = err.message || (err instanceof AggregateError ? [...new Set(err.errors.map(describe))].join('; ') : '');
  const cause = err.cause === undefined ? '' : describe(err.cause);
  if (!own) return cause || ((err as { code?: string }).code ?? err.name);
  return cause && !own.includes(cause) ? `${own}: ${cause}` : own;
}

const isParseError = (err: unknown) => String((err as { code?: unknown } | undefined)?.code).startsWith('ERR_PARSE_ARGS');

/** Lines joined with '; '; parseArgs's advice on positionals that start with '-' left out. */
const oneLine = (text: string) => {
  const [first = '', ...rest] = text.replace(/\. To specify a positional argument starting with a '-'.*$/s, '').split('\n').map((l) => l.trim()).filter(Boolean);
  return rest.length === 0 ? first : `${first}${first.endsWith(':') ? ' ' : '; '}${rest.join('; ')}`;
};

const secretName = /PASSWORD|SECRET|TOKEN|ACCESS_KEY/i;

/** `text` with URL passwords and the values of secret-looking environment variables masked. */
export function redact(text: string, env: Record<string, string | undefined> = process.env): string {
  let out = text.replace(/(\/\/[^\s/?#@:]*):[^\s/?#@]*@/g, '$1:***@');
  for (const [k, v] of Object.entries(env)) if (v && v.length >= 8 && secretName.test(k)) out = out.replaceAll(v, '***');
  return out;
}
