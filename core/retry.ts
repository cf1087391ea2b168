import type { Logger } from 'pino';
import { SluiceError } from './errors.ts';
import { describe } from './cli.ts';

/** The default of SLUICE_STARTUP_TIMEOUT_MS (core/runtime/config.ts), for clients made without the setting. */
export const STARTUP_TIMEOUT_MS = 60_000;

/** How long start-up waits for a service, and who hears about the waiting. */
export interface Startup {
  /** ms */
  timeoutMs: number;
  /** The setting `timeoutMs` comes from, named in the error when it runs out. */
  setting?: string;
  log?: Logger;
}

export interface ReadyOptions extends Startup {
  /** Errors that may go away by themselves; the others are thrown at once. Default: `isTransient`. */
  isRetriable?: (err: unknown) => boolean;
  /** First pause between attempts, ms; it doubles up to `maxDelayMs`, and each is drawn from its upper half (jitter). */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Settles as `work` does, or rejects with `late` at `deadline`; `work` is left to settle unobserved. */
function beforeDeadline<T>(work: Promise<T>, deadline: number, late: symbol): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(late), deadline - Date.now())));
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * Calls `attempt` until it resolves, pausing with exponential backoff and jitter (0.1 s doubling up
 * to 5 s) after each error that `isRetriable` accepts; any other error is thrown at once. After
 * `timeoutMs` (an attempt still running then is abandoned) it throws a `NotReadyError` whose one-line
 * message names `what` and the last error.
 *
 * @example await untilReady('Kafka at 127.0.0.1:9092', () => admin.connect(), { timeoutMs: 60_000, log });
 */
export async function untilReady<T>(what: string, attempt: () => Promise<T>, opts: ReadyOptions): Promise<T> {
  const { timeoutMs, isRetriable = isTransient, log, initialDelayMs = 100, maxDelayMs = 5000 } = opts;
  const deadline = Date.now() + timeoutMs;
  const late = Symbol('deadline');
  let last: unknown;
  for (let n = 0; ; n++) {
    if (n > 0 && Date.now() >= deadline) break;
    try {
      return await beforeDeadline(attempt(), deadline, late);
    } catch (err) {
      if (err === late) break;
      if (!isRetriable(err)) throw err;
      last = err;
    }
    const step = Math.min(maxDelayMs, initialDelayMs * 2 ** n);
    const pause = Math.min(deadline - Date.now(), step / 2 + (Math.random() * step) / 2);
    log?.info({ err: { message: describe(last) }, attempt: n + 1, retryInMs: Math.round(pause) }, `waiting for ${what}`);
    if (pause > 0) await sleep(pause);
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
