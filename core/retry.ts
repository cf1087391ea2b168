import type { Logger } from 'pino';
import { SluiceError } from './errors.ts';
import { describe } from './cli.ts';

/** The default of SLUICE_STARTUP_TIMEOUT_MS (core/runtime/runtime-settings.ts), for clients made without the setting. */
export const STARTUP_TIMEOUT_MS = 60_000;

/** How long start-up waits for a service, and who hears about the waiting. */
export interface Startup {
  /** ms */
  timeoutMs: number;
  /** The setting `timeoutMs` comes from, named in the error when it runs out. */
  setting?: string;
  log?: Logger;
}

/** How `retry` paces and ends its attempts. */
export interface RetryOptions {
  /** Errors worth another attempt; any other is thrown at once. Default: `isTransient`. */
  isRetriable?: (err: unknown) => boolean;
  /** First pause, ms; it doubles up to `maxDelayMs`, each drawn from its upper half (jitter). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts in all (default: no limit); the last one's error is thrown. */
  attempts?: number;
  /** Stops the retrying: a pause under way ends, and the last error is thrown. */
  signal?: AbortSignal;
  /** Called before each pause, with the error, the attempt that failed (1, 2, …) and the pause in ms. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** The pause after failed attempt `n` (0, 1, …): `initialDelayMs` doubling up to `maxDelayMs`, drawn from the upper half of that. */
export function backoffDelay(n: number, opts: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs'> = {}): number {
  const { initialDelayMs = 100, maxDelayMs = 5000 } = opts;
  const step = Math.min(maxDelayMs, initialDelayMs * 2 ** n);
  return step / 2 + (Math.random() * step) / 2;
}

/** Resolves after `ms`, or when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Calls `attempt` until it resolves, pausing with exponential backoff and jitter after each error
 * that `isRetriable` accepts, until `attempts` are used up or `signal` stops it. The one retry loop
 * of Sluice: start-up waits, Kafka sends, database writes, uploads and webhooks all go through it.
 *
 * @example await retry(() => pool.query(sql), { signal: closing.signal, onRetry: (err, n, ms) => log.warn({ n, ms }, 'retrying') });
 */
export async function retry<T>(attempt: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const { isRetriable = isTransient, attempts = Infinity, signal, onRetry } = opts;
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isRetriable(err) || n + 1 >= attempts || signal?.aborted) throw err;
      const delay = backoffDelay(n, opts);
      onRetry?.(err, n + 1, Math.round(delay));
      await pause(delay, signal);
      if (signal?.aborted) throw err;
    }
  }
}

export interface ReadyOptions extends Startup, Pick<RetryOptions, 'isRetriable' | 'initialDelayMs' | 'maxDelayMs'> {}

/** A service did not become ready within the start-up timeout. */
export class NotReadyError extends SluiceError {
  override readonly name = 'NotReadyError';
  /** The error of the last attempt that failed (undefined when none answered at all). */
  readonly lastError: unknown;
  constructor(message: string, lastError: unknown) {
    super(message);
    this.lastError = lastError;
  }
}

/** Settles as `work` does, or rejects with `late` when `deadline` aborts; `work` is left to settle unobserved. */
function beforeDeadline<T>(work: Promise<T>, deadline: AbortSignal, late: symbol): Promise<T> {
  work.catch(() => undefined);
  if (deadline.aborted) return Promise.reject(late);
  let onAbort: () => void = () => undefined;
  const expired = new Promise<never>((_, reject) => deadline.addEventListener('abort', (onAbort = () => reject(late)), { once: true }));
  return Promise.race([work, expired]).finally(() => deadline.removeEventListener('abort', onAbort));
}

/**
 * Calls `attempt` until it resolves (`retry`, 0.1 s doubling up to 5 s); an error that `isRetriable`
 * does not accept is thrown at once. After `timeoutMs` (an attempt still running then is abandoned)
 * it throws a `NotReadyError` whose one-line message names `what` and the last error.
 *
 * @example await untilReady('Kafka at 127.0.0.1:9092', () => admin.connect(), { timeoutMs: 60_000, log });
 */
export async function untilReady<T>(what: string, attempt: () => Promise<T>, opts: ReadyOptions): Promise<T> {
  const { timeoutMs, isRetriable = isTransient, log } = opts;
  const timeout = new AbortController();
  const deadline = timeout.signal;
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const late = Symbol('deadline');
  let last: unknown;
  try {
    return await retry(() => beforeDeadline(attempt(), deadline, late), {
      ...opts, isRetriable: (err) => err !== late && isRetriable(err), signal: deadline,
      onRetry: (err, n, retryInMs) => {
        last = err;
        log?.info({ err: { message: describe(err) }, attempt: n, retryInMs }, `waiting for ${what}`);
      },
    });
  } catch (err) {
    if (err !== late && !(deadline.aborted && isRetriable(err))) throw err;
    if (err !== late) last = err;
  } finally {
    clearTimeout(timer);
  }
  const reason = last === undefined ? 'no answer' : `last error: ${describe(last)}`;
  throw new NotReadyError(`gave up waiting for ${what} after ${timeoutMs} ms${opts.setting ? ` (${opts.setting})` : ''}; ${reason}`.replace(/\s*\n\s*/g, '; '), last);
}

/** Node's and undici's codes for a peer that is not listening yet, or went away. */
const networkCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CLOSED',
]);
/** PostgreSQL SQLSTATEs: connection exceptions, "the database system is starting up", too many clients, lost races. */
const transientSqlState = /^(08...|57P0[123]|53300|40001|40P01)$/;
/** PostgreSQL SQLSTATEs that no wait fixes: authentication, unknown database, missing privilege. */
const fatalSqlState = /^(28...|3D000|42501)$/;
/**
 * kafkajs errors that are normal while a broker starts or a topic is new, whatever their flag says:
 * a coordinator still loading or moving, no leader yet, metadata not yet propagated, and the
 * timeouts of kafkajs's own waits for them.
 */
const startupKafkaErrors = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'REPLICA_NOT_AVAILABLE', 'NOT_ENOUGH_REPLICAS',
  'GROUP_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR_FOR_GROUP', 'NOT_CONTROLLER', 'REQUEST_TIMED_OUT',
  'KafkaJSTimeout', 'KafkaJSLockTimeout', 'KafkaJSGroupCoordinatorNotFound', 'KafkaJSNumberOfRetriesExceeded',
]);

/** What one error says about itself, if anything: true = may pass, false = will not. */
function verdict(e: object): boolean | undefined {
  const { code, name, type, retriable, errors } = e as { code?: unknown; name?: unknown; type?: unknown; retriable?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    if (networkCodes.has(code) || transientSqlState.test(code)) return true;
    if (code === 'ENOTFOUND' || fatalSqlState.test(code)) return false; // a misspelt host fails at once
  }
  if (startupKafkaErrors.has(String(type)) || startupKafkaErrors.has(String(name))) return true;
  if (name === 'TimeoutError') return true; // AbortSignal.timeout
  if (Array.isArray(errors) && errors.length > 0) return errors.every(isTransient); // AggregateError, KafkaJSAggregateError
  if (typeof retriable === 'boolean') return retriable; // SluiceError, kafkajs
  return undefined;
}

/**
 * Whether `err` may go away by waiting, as at start-up: a connection refused, a coordinator loading,
 * a new topic without a leader, a 5xx. The innermost error in the `cause` chain that says anything
 * decides (a kafkajs "retries exceeded" or a retriable SluiceError around an authentication failure
 * is what it wraps). An error that says nothing, a bug or a refused configuration, is not transient.
 */
export function isTransient(err: unknown): boolean {
  let decided: boolean | undefined;
  const seen = new Set<unknown>();
  for (let e = err; typeof e === 'object' && e !== null && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    decided = verdict(e) ?? decided;
  }
  return decided ?? false;
}
