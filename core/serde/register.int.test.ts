import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RegistryClient } from './registry.ts';

const url = process.env.SCHEMA_REGISTRY_URL!;
const bin = join(__dirname, '..', '..', 'bin', 'register-schemas');

function run(dir: string, ...args: string[]) {
  const r = spawnSync(bin, args, { env: { ...process.env, SLUICE_SCHEMAS_DIR: dir }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('register-schemas checks, registers, refuses a breaking change with its reason, and never sets a level', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'schemas-'));
  const topic = `reg-${Date.now()}-${randomBytes(2).toString('hex')}`;
  const subject = `${topic}-value`;
  const write = (fields: object[]) => writeFileSync(join(dir, `${topic}.avsc`), JSON.stringify({ type: 'record', name: 'R', fields }));
  const registry = new RegistryClient(url);

  write([{ name: 'a', type: 'string' }]);
  let r = run(dir);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(new RegExp(`${subject}\\s+1\\s+\\d+\\s+registered \\(BACKWARD_TRANSITIVE\\)`));
  // What the registry reports for the new subject is its global default, not a level we set.
  const global = ((await (await fetch(`${url}/config`)).json()) as { compatibilityLevel: string }).compatibilityLevel;
  const levelOf = async () => (await registry.compatibilityLevel(subject)) ?? global;
  expect(await levelOf()).toBe(global);

  write([{ name: 'a', type: 'string' }, { name: 'b', type: 'int', default: 0 }]);
  r = run(dir, '--dry-run');
  expect(r.code).toBe(0);
  expect(r.out).toContain('would register');
  expect(await registry.versions(subject)).toEqual([1]);

  r = run(dir);
  expect(r.code).toBe(0);
  expect(await registry.versions(subject)).toEqual([1, 2]);
  expect(run(dir).out).toContain('unchanged');

  write([{ name: 'a', type: 'string' }, { name: 'b', type: 'int', default: 0 }, { name: 'c', type: 'double' }]);
  r = run(dir);
  expect(r.code).toBe(1);
  expect(r.out).toContain('refused');
  expect(r.out).toMatch(/version 1: .*\bc\b/); // names the field that breaks, against each version
  expect(await registry.versions(subject)).toEqual([1, 2]);
  expect(await levelOf()).toBe(global);
});
