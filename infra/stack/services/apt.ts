import { spawnSync } from 'node:child_process';
import { runCommand } from '../proc.ts';

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Installs Debian packages; needs root, as on the machines this stack targets. */
export function aptInstall(...packages: string[]): void {
  if (process.getuid?.() !== 0) throw new Error(`install ${packages.join(' ')} (apt-get needs root)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  runCommand('apt-get', ['update'], { env });
  runCommand('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env });
}
