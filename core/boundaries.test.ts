// The layers' import rules (issue 21), checked on every production file (tests and testdata aside):
// outside core/ only its public surface is imported (core/index.ts, core/component.ts); core/
// imports no connector, sink, topology or bin command; sinks and connectors do not import each
// other, nor topologies. File names are kebab-case.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const layers = ['core', 'connectors', 'sinks', 'topologies', 'bin'];
/** The public surface: for topology authors, and for authors of components (sources, sinks). */
const entries = ['core/index.ts', 'core/component.ts'];

const sources = (dir: string): string[] => readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
  if (e.isDirectory()) return e.name === 'testdata' ? [] : sources(join(dir, e.name));
  return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [];
});

/** The relative modules a file imports: static imports and re-exports, and every literal in a dynamic import(…) up to the end of its line. */
export function importsOf(source: string): string[] {
  const statics = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g)].map((m) => m[1]!);
  const dynamics = [...source.matchAll(/\bimport\(([^\n;]*)/g)].flatMap((m) => [...m[1]!.matchAll(/'([^']+)'/g)].map((s) => s[1]!));
  return [...statics, ...dynamics].filter((s) => s.startsWith('.'));
}

/** Which rule an import from `from` to `to` (paths from the root) breaks, if any. */
export function broken(from: string, to: string): string | undefined {
  const [a, b] = [from.split('/')[0]!, to.split('/')[0]!];
  if (a !== 'core' && b === 'core' && !entries.includes(to)) return 'a core internal';
  if (a === 'core' && b !== 'core' && layers.includes(b)) return `core imports ${b}`;
  if ((a === 'sinks' && b === 'connectors') || (a === 'connectors' && b === 'sinks')) return `${a} import ${b}`;
  if ((a === 'sinks' || a === 'connectors') && b === 'topologies') return `${a} import topologies`;
  return undefined;
}

test('the rules, on a few imports', () => {
  expect(importsOf("import { a } from '../core/x.ts';\nexport * from './y.ts';\nconst m = await import(p ? resolve(p) : '../../topologies/index.ts');\nimport pg from 'pg';"))
    .toEqual(['../core/x.ts', './y.ts', '../../topologies/index.ts']);
  expect(broken('sinks/archive/file-format.ts', 'core/index.ts')).toBeUndefined();
  expect(broken('sinks/archive/archive-sink.ts', 'core/component.ts')).toBeUndefined();
  expect(broken('sinks/archive/file-format.ts', 'core/serde/avro.ts')).toBe('a core internal');
  expect(broken('core/runtime/cli.ts', 'topologies/index.ts')).toBe('core imports topologies');
  expect(broken('connectors/mqtt/source.ts', 'sinks/timescale/table-sink.ts')).toBe('connectors import sinks');
  expect(broken('sinks/archive/file-format.ts', 'topologies/alerting/rules.ts')).toBe('sinks import topologies');
  expect(broken('topologies/alerting.ts', 'sinks/timescale/table-sink.ts')).toBeUndefined();
});

test('no import breaks the layers', () => {
  const found = layers.flatMap(sources).flatMap((file) => importsOf(readFileSync(join(root, file), 'utf8'))
    .map((spec) => relative(root, resolve(root, dirname(file), spec)))
    .filter((to) => broken(file, to))
    .map((to) => `${file} -> ${to}: ${broken(file, to)}`));
  expect(found).toEqual([]);
});

test('file names: one convention, kebab-case (tests and declarations add .test, .int, .d)', () => {
  const all = (dir: string): string[] => readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'node_modules' || e.name.startsWith('.') ? [] : all(join(dir, e.name))) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
  expect(all('.').filter((f) => !/^[a-z0-9]+(-[a-z0-9]+)*(\.(test|int|d))*\.ts$/.test(f.split('/').pop()!))).toEqual([]);
});

test('package.json exports the public surface by name, and nothing else of core', () => {
  expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports).toEqual({ '.': './core/index.ts', './component': './core/component.ts' });
  const script = `const [a, b] = [await import('sluice'), await import('sluice/component')];
    const internal = await import('sluice/core/errors.ts').then(() => 'imported', (err) => err.code);
    console.log(typeof a.defineTopology, typeof a.startOpsServer, typeof b.defineTopology, typeof b.startOpsServer, internal);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(run.stdout.trim()).toBe('function undefined function function ERR_PACKAGE_PATH_NOT_EXPORTED');
});
