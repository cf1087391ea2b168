import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logs, run } from './paths.ts';

export const logFile = (name: string) => join(logs, `${name}.log`);
const pidFile = (name: string) => join(run, `${name}.pid`);

/** Runs a command to completion with its output on stderr; throws when it fails. */
export function runCommand(cmd: string, args: string[], opts: SpawnSyncOptions = {}): void {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 2, 2], ...opts });
  if (result.error) throw new Error(`${cmd} could not be started: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

/** Starts a long-running process in its own session, output to logs/<name>.log; records its pid. */
export function startDetached(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const out = openSync(logFile(name), 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`${cmd} could not be started`);
  child.unref();
  writeFileSync(pidFile(name), String(child.pid));
  return child.pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of a process this stack started and that still runs. */
export function startedPid(name: string): number | undefined {
  if (!existsSync(pidFile(name))) return undefined;
  const pid = Number(readFileSync(pidFile(name), 'utf8'));
  return isAlive(pid) ? pid : undefined;
}

/** Stops a process this stack started: SIGTERM, then SIGKILL after the grace period. */
export async function stopStarted(name: string, graceMs = 30_000): Promise<boolean> {
  const pid = startedPid(name);
  rmSync(pidFile(name), { force: true });
  if (pid === undefined) return false;
  process.kill(-pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
  return true;
}

export function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls `probe` until it resolves. Fails early when the process we started has exited, and after
 * `timeoutMs`, with the end of its log and the probe's last error.
 */
export async function waitUntilAnswers(name: string, probe: () => Promise<unknown>, pid: number | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (err) {
      last = err;
    }
    if (pid !== undefined && !isAlive(pid)) {
      throw new Error(`${name} exited during start-up; end of ${logFile(name)}:\n${tail(logFile(name))}`);
    }
    await sleep(500);
  }
  throw new Error(`${name} did not answer within ${timeoutMs / 1000} s (${String(last)}); end of ${logFile(name)}:\n${tail(logFile(name))}`);
}
