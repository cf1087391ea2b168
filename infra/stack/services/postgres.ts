import { existsSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Service } from '../service.ts';
import { ports } from '../settings.ts';
import { run } from '../paths.ts';
import { aptInstall, hasCommand } from './apt.ts';
import { runCommand } from '../proc.ts';

const adminUrl = `postgres://postgres@127.0.0.1:${ports.postgres}/postgres`;
/** Created by `up`: the pipeline's database and the schema registry's storage. */
export const databases = ['sluice', 'sluice_registry'] as const;
const startedMarker = join(run, 'postgres.started');

function clusterVersion(): string {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  const v = versions.sort().at(-1);
  if (!v) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  return v;
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Installed from Debian's packages when missing; the local cluster trusts 127.0.0.1 as on CI. */
export const postgres: Service = {
  name: 'postgres',
  endpoint: `127.0.0.1:${ports.postgres}`,
  startTimeoutMs: 60_000,
  probe: () => withAdmin((c) => c.query('SELECT 1')).then(() => undefined),
  provision() {
    if (hasCommand('pg_ctlcluster')) return;
    aptInstall('postgresql');
    const hba = join('/etc/postgresql', clusterVersion(), 'main', 'pg_hba.conf');
    writeFileSync(hba, `host all all 127.0.0.1/32 trust\n${readFileSync(hba, 'utf8')}`);
  },
  async start() {
    runCommand('pg_ctlcluster', ['--skip-systemctl-redirect', clusterVersion(), 'main', 'start']);
    writeFileSync(startedMarker, clusterVersion());
    return undefined;
  },
  async prepare() {
    await withAdmin(async (c) => {
      for (const db of databases) {
        const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
        // CREATE DATABASE takes no parameters: the name comes from the fixed list above, quoted.
        const ident = c.escapeIdentifier(db);
        if (found.rowCount === 0) await c.query(`CREATE DATABASE ${ident}`);
      }
    });
  },
  async stop() {
    if (!existsSync(startedMarker)) return false;
    runCommand('pg_ctlcluster', ['--skip-systemctl-redirect', readFileSync(startedMarker, 'utf8'), 'main', 'stop']);
    rmSync(startedMarker);
    return true;
  },
};
