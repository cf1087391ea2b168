import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ensureSchema, rolesSql } from '../schema.ts';
import { quote as quoteIdent } from '../table.ts';

export const adminUrl = process.env.TIMESCALE_URL ?? 'postgres://postgres@127.0.0.1:5432/sluice';

/** A connection string to `database` on the server of `base`, as `user`. */
export function urlFor(base: string, database: string, user?: string): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  if (user) {
    u.username = user;
    u.password = '';
  }
  return u.toString();
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDb {
  name: string;
  /** As the owner (superuser). */
  url: string;
  /** As the sink's writer role. */
  writerUrl: string;
  readerUrl: string;
  drop(): Promise<void>;
}

/**
 * A database of its own (sluice_test_<random>) on the server of `base`, with the sink's schema, a
 * sensor_data_nokey table, and writer and reader login roles.
 */
export async function createTestDb(base = adminUrl): Promise<TestDb> {
  const suffix = randomBytes(4).toString('hex');
  const name = `sluice_test_${suffix}`;
  const [writer, reader] = [`sluice_w_${suffix}`, `sluice_r_${suffix}`];
  const ident = name; // generated above: letters, digits and _
  await withClient(urlFor(base, 'postgres'), (c) => c.query(`CREATE DATABASE ${ident}`));
  const url = urlFor(base, name);
  await withClient(url, async (c) => {
    await ensureSchema(c, true);
    await c.query('CREATE TABLE sensor_data_nokey (LIKE sensor_data)');
    for (const s of rolesSql(name, writer, reader)) await c.query(s);
    for (const ident of [writer, reader]) await c.query(`ALTER ROLE ${ident} LOGIN`);
    await c.query(`GRANT SELECT, INSERT ON sensor_data_nokey TO ${quoteIdent(writer)}`);
  });
  return {
    name, url, writerUrl: urlFor(base, name, writer), readerUrl: urlFor(base, name, reader),
    drop: () => withClient(urlFor(base, 'postgres'), async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
      for (const identRole of [writer, reader]) await c.query(`DROP ROLE IF EXISTS ${identRole}`);
    }),
  };
}
