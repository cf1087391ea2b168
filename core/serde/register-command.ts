import { loadConfig } from '../config.ts';
import { runtimeSchema } from '../runtime/runtime-settings.ts';
import { RegistryClient } from './registry.ts';
import { registerSchemas } from './register.ts';
import { schemasDir } from './avro.ts';

const usage = `usage: bin/register-schemas [--dry-run]

Registers schemas/<topic>.avsc under the subject <topic>-value, after checking each change at the
subject's level in schemas/compatibility.json (default BACKWARD_TRANSITIVE) and with the registry.
Prints subject, version and id; a refused change prints why and exits 1. --dry-run registers nothing.
Never changes a subject's compatibility level. Environment: SCHEMA_REGISTRY_URL, SLUICE_SCHEMAS_DIR,
SLUICE_STARTUP_TIMEOUT_MS (60000: how long to wait for the registry to answer).`;

export async function registerSchemasCommand(args: { dryRun: boolean; help: boolean }): Promise<number> {
  if (args.help) {
    console.log(usage);
    return 0;
  }
  // A ConfigError is exit 2 with one line (core/cli.ts).
  const cfg = loadConfig(runtimeSchema.pick({ SCHEMA_REGISTRY_URL: true, SLUICE_STARTUP_TIMEOUT_MS: true }));
  const registry = new RegistryClient(cfg.SCHEMA_REGISTRY_URL, { timeoutMs: cfg.SLUICE_STARTUP_TIMEOUT_MS, setting: 'SLUICE_STARTUP_TIMEOUT_MS' });
  const outcomes = await registerSchemas(registry, schemasDir, args.dryRun);
  const w = Math.max(7, ...outcomes.map((o) => o.subject.length));
  console.log(`${'subject'.padEnd(w)}  version  id      status`);
  for (const o of outcomes) {
    console.log(`${o.subject.padEnd(w)}  ${String(o.version ?? '-').padEnd(7)}  ${String(o.id ?? '-').padEnd(6)}  ${o.status} (${o.level})`);
    for (const r of o.reasons) console.log(`    ${r}`);
  }
  return outcomes.some((o) => o.status === 'refused') ? 1 : 0;
}
