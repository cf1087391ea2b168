import { runCommand } from '../../core/cli.ts';
import { ConfigError } from '../../core/errors.ts';
import type { Service } from './service.ts';
import { ensureDirs, home } from './paths.ts';
import { stackEnv } from './settings.ts';
import { waitUntilAnswers } from './proc.ts';
import { postgres } from './services/postgres.ts';
import { mosquitto } from './services/mosquitto.ts';
import { kafka } from './services/kafka.ts';
import { registry } from './services/registry.ts';
import { objectstore } from './services/objectstore.ts';

/** Start order: each group answers before the next starts (the registry keeps its data in PostgreSQL). */
const groups: Service[][] = [[postgres, mosquitto], [kafka, registry, objectstore]];
const all = groups.flat();

const answers = (s: Service) => s.probe().then(() => true, () => false);
const row = (s: Service, state: string) => `${s.name.padEnd(12)} ${state.padEnd(24)} ${s.endpoint}`;

async function up(): Promise<void> {
  ensureDirs();
  const running = new Map(await Promise.all(all.map(async (s) => [s, await answers(s)] as const)));
  for (const s of all) if (!running.get(s)) s.provision();
  for (const group of groups) {
    const states = await Promise.all(
      group.map(async (s) => {
        let state = 'up (already running)';
        if (!running.get(s)) {
          const pid = await s.start();
          await waitUntilAnswers(s.name, () => s.probe(), pid, s.startTimeoutMs);
          state = pid === undefined ? 'up (started)' : `up (started, pid ${pid})`;
        }
        await s.prepare?.();
        return row(s, state);
      }),
    );
    states.forEach((line) => console.log(line));
  }
  console.log(`\nLogs and data: ${home}\nConnection settings: eval "$(bin/stack env)"`);
}

async function status(): Promise<number> {
  const states = await Promise.all(all.map(async (s) => [s, await answers(s)] as const));
  for (const [s, ok] of states) console.log(row(s, ok ? 'up' : 'down'));
  return states.every(([, ok]) => ok) ? 0 : 1;
}

async function down(): Promise<void> {
  for (const s of [...all].reverse()) console.log(row(s, (await s.stop()) ? 'stopped' : 'left alone (not ours)'));
}

function env(): void {
  for (const [k, v] of Object.entries(stackEnv())) console.log(`export ${k}='${v.replaceAll("'", `'\\''`)}'`);
}

const usage = `usage: bin/stack up | down | status | env
  up      start the services that are not running (Kafka, schema registry, object store, and
          PostgreSQL / Mosquitto if they are down), wait until each answers, print the endpoints
  down    stop what 'up' started
  status  print each service as up or down; exit 1 if any is down
  env     print 'export NAME=value' lines with the connection settings`;

await runCommand('bin/stack', { options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true }, async ({ values, positionals: [cmd, ...extra] }) => {
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (extra.length > 0) throw new ConfigError(`unexpected argument "${extra[0]}"`);
  switch (cmd) {
    case 'up': await up(); return 0;
    case 'down': await down(); return 0;
    case 'status': return status();
    case 'env': env(); return 0;
    default: throw new ConfigError(cmd === undefined ? 'name a command: up, down, status or env' : `unknown command "${cmd}"`);
  }
});
