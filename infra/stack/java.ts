import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

function majorOf(javaHome: string): number {
  const release = join(javaHome, 'release');
  if (!existsSync(release)) return 0;
  const m = /JAVA_VERSION="(\d+)/.exec(readFileSync(release, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function candidates(): string[] {
  const homes: string[] = [];
  if (process.env.JAVA_HOME) homes.push(process.env.JAVA_HOME);
  const onPath = spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) homes.push(dirname(dirname(realpathSync(onPath))));
  if (existsSync('/usr/lib/jvm')) homes.push(...readdirSync('/usr/lib/jvm').map((d) => join('/usr/lib/jvm', d)));
  return homes;
}

/** The `java` binary of the first JDK found (JAVA_HOME, PATH, /usr/lib/jvm) whose major version is at least `min`. */
export function findJava(min: number): string | undefined {
  const home = candidates().find((h) => majorOf(h) >= min && existsSync(join(h, 'bin', 'java')));
  return home && join(home, 'bin', 'java');
}
