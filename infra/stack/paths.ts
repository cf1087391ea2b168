import { homedir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';

/** Everything the stack downloads, writes and logs lives under SLUICE_HOME, outside the repository. */
export const home = process.env.SLUICE_HOME ?? join(homedir(), '.cache', 'sluice');
export const dist = join(home, 'dist');
export const data = join(home, 'data');
export const logs = join(home, 'logs');
export const run = join(home, 'run');

export function ensureDirs(...dirs: string[]): void {
  for (const dir of [dist, data, logs, run, ...dirs]) mkdirSync(dir, { recursive: true });
}
