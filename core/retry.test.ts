import { createRequire } from 'node:module';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } from 'kafkajs';
import { ConfigError, SluiceError } from './errors.ts';
import { RegistryError } from './serde/registry.ts';
import { SerdeError } from './serde/errors.ts';
import { NotReadyError, isTransient, retry, untilReady } from './retry.ts';

// The errors kafkajs makes of a broker's error codes, as its requests throw them.
const { createErrorFromCode } = createRequire(__filename)('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error };
const { KafkaJSProtocolError, KafkaJSSASLAuthenticationError, KafkaJSNonRetriableError } = createRequire(__filename)('kafkajs/src/errors.js') as Record<string, new (e: Error | string, opts?: { cause?: unknown }) => Error>;
const kafkaError = (code: number) => new KafkaJSProtocolError!(createErrorFromCode(code));
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

/** Runs `p` to its end while the fake clock moves on, in steps of 50 ms. */
async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; elapsed: number }> {
  const start = Date.now();
  let out: { value?: T; error?: unknown } | undefined;
  p.then((value) => (out = { value }), (error: unknown) => (out = { error }));
  await jest.advanceTimersByTimeAsync(0);
  while (!out) await jest.advanceTimersByTimeAsync(50);
  return { ...out, elapsed: Date.now() - start };
}

test('errors normal at start-up are retried with growing pauses until the attempt succeeds', async () => {
  // a topic just created (the quickstart failure), a coordinator loading, no leader yet, a refused connection
  const failures = [kafkaError(3), kafkaError(14), kafkaError(5), new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', { broker: '127.0.0.1:9092' })];
  const attempts: number[] = [];
  const r = await settle(untilReady('topic t', async () => {
    attempts.push(Date.now());
    const next = failures.shift();
    if (next) throw next;
    return 'ready';
  }, { timeoutMs: 60_000 }));
  expect(r.value).toBe('ready');
  expect(attempts).toHaveLength(5);
  const pauses = attempts.slice(1).map((t, i) => t - attempts[i]!);
  // 0.1 s doubling, each drawn from the upper half of its step (rounded up to the 50 ms steps of `settle`)
  pauses.forEach((p, i) => {
    expect(p).toBeGreaterThanOrEqual(50 * 2 ** i);
    expect(p).toBeLessThanOrEqual(100 * 2 ** i + 50);
  });
});

test('an error that waiting cannot fix is thrown at once, unchanged', async () => {
  for (const fatal of [
    new KafkaJSSASLAuthenticationError!('SASL PLAIN authentication failed'),
    new ConfigError('KAFKA_BROKERS: expected host:port'),
    new SerdeError('unknown-schema', 'schema for subject x-value is not registered: run bin/register-schemas'),
    new SyntaxError('Unexpected token } in JSON'), // a schema that does not parse
  ]) {
    let calls = 0;
    const r = await settle(untilReady('x', async () => {
      calls += 1;
      throw fatal;
    }, { timeoutMs: 60_000 }));
    expect([r.error, calls, r.elapsed]).toEqual([fatal, 1, 0]);
  }
});

test('at the timeout, one line names what was waited for and the last error', async () => {
  let n = 0;
  const r = await settle(untilReady('the schema registry', async () => {
    n += 1;
    throw new RegistryError(`schema registry did not answer GET /subjects (attempt ${n})`, undefined, new TypeError('fetch failed', { cause: refused() }));
  }, { timeoutMs: 3000, setting: 'SLUICE_STARTUP_TIMEOUT_MS' }));
  expect(r.error).toBeInstanceOf(NotReadyError);
  const { message } = r.error as NotReadyError;
  expect(message).toBe(`gave up waiting for the schema registry after 3000 ms (SLUICE_STARTUP_TIMEOUT_MS); last error: schema registry did not answer GET /subjects (attempt ${n}): fetch failed: connect ECONNREFUSED 127.0.0.1:9092`);
  expect(r.elapsed).toBeGreaterThanOrEqual(3000);
  expect(r.elapsed).toBeLessThanOrEqual(3050);
  expect(n).toBeGreaterThan(3);
  expect((r.error as NotReadyError).retriable).toBe(false); // an outer wait does not start over
});

test('an attempt still running at the timeout is abandoned', async () => {
  const r = await settle(untilReady('Kafka at 10.0.0.1:9092', () => new Promise<never>(() => undefined), { timeoutMs: 1000 }));
  expect((r.error as Error).message).toBe('gave up waiting for Kafka at 10.0.0.1:9092 after 1000 ms; no answer');
  expect(r.elapsed).toBe(1000);
});

test('retry: a set number of attempts, then the last error; the pauses as given', async () => {
  const times: number[] = [];
  const seen: [number, number][] = [];
  const r = await settle(retry(async () => {
    times.push(Date.now());
    throw new Error(`attempt ${times.length}`);
  }, { isRetriable: () => true, attempts: 4, initialDelayMs: 200, maxDelayMs: 400, onRetry: (_err, n, ms) => void seen.push([n, ms]) }));
  expect((r.error as Error).message).toBe('attempt 4');
  expect(seen.map(([n]) => n)).toEqual([1, 2, 3]);
  // 200, 400, 400 (the cap), each from the upper half of its step
  [200, 400, 400].forEach((step, i) => {
    expect(seen[i]![1]).toBeGreaterThanOrEqual(step / 2);
    expect(seen[i]![1]).toBeLessThanOrEqual(step);
  });
});

test('retry: the stop signal ends a pause under way and throws the last error, without another attempt', async () => {
  const stop = new AbortController();
  let calls = 0;
  const p = settle(retry(async () => {
    calls += 1;
    throw new Error('database is down');
  }, { isRetriable: () => true, initialDelayMs: 60_000, maxDelayMs: 60_000, signal: stop.signal }));
  setTimeout(() => stop.abort(), 1000);
  const r = await p;
  expect([(r.error as Error).message, calls, r.elapsed]).toEqual(['database is down', 1, 1000]);
});

test('isTransient: the innermost error that says anything decides', () => {
  const pg = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
  const wrapped = (cause: unknown) => new SluiceError('database for sensor_data: …', { retriable: true, cause });
  expect([
    isTransient(wrapped(refused())), // the database is not listening yet
    isTransient(wrapped(pg('57P03'))), // the database system is starting up
    isTransient(new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error'), { retryCount: 5, retryTime: 300 })),
    isTransient(new KafkaJSNonRetriableError!(kafkaError(3), { cause: kafkaError(3) })), // kafkajs bailed out on UNKNOWN_TOPIC_OR_PARTITION, a retry of ours may not
    isTransient(new AggregateError([refused(), refused()])), // localhost: ::1 and 127.0.0.1 both refused
    isTransient(new RegistryError('GET /subjects answered 503: starting', 503)),
  ]).toEqual([true, true, true, true, true, true]);
  expect([
    isTransient(wrapped(pg('28P01'))), // password authentication failed
    isTransient(wrapped(pg('3D000'))), // database does not exist
    isTransient(new RegistryError('GET /subjects answered 401: unauthorized', 401)),
    isTransient(kafkaError(29)), // TOPIC_AUTHORIZATION_FAILED
    isTransient(Object.assign(new Error('getaddrinfo ENOTFOUND kafak'), { code: 'ENOTFOUND' })),
    isTransient(new TypeError("Cannot read properties of undefined (reading 'x')")),
  ]).toEqual([false, false, false, false, false, false]);
});
