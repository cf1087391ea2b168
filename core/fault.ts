import { SluiceError } from './errors.ts';

/**
 * Fault injection for tests: with `SLUICE_FAULT=<point>[:<n>][:stop]` in the environment the process
 * kills itself with SIGKILL the n-th time (default: the first) the named point is reached; with
 * `:stop` it stops itself with SIGSTOP instead (a pause: GC, a stalled VM), until a SIGCONT; with
 * `:throw` it throws a retriable error there instead (a request to Kafka that failed, say), once.
 * Unset, a fault point costs one comparison.
 */
let hits = 0;

export function faultPoint(name: string): void {
  const spec = process.env.SLUICE_FAULT;
  if (!spec) return;
  const [point, nth = '1', action] = spec.split(':');
  if (point !== name) return;
  hits += 1;
  if (hits !== Number(nth)) return;
  if (action === 'throw') throw new SluiceError(`fault point ${name}: an injected failure`, { retriable: true });
  process.kill(process.pid, action === 'stop' ? 'SIGSTOP' : 'SIGKILL');
}
