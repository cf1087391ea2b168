// bin/docs [--check]: the README's settings tables, made from the settings' declarations (their zod
// schemas: description, default, bounds; see bin/lib/docs.ts). Without --check it rewrites them;
// with it, exit 1 when the README differs from the declarations.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSettings } from './lib/docs.ts';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const text = readFileSync(readme, 'utf8');
const made = renderSettings(text);
if (made === text) process.exit(0);
if (process.argv.includes('--check')) {
  console.error('README.md: the settings tables differ from the declarations; run bin/docs');
  process.exit(1);
}
writeFileSync(readme, made);
console.log('README.md: settings tables made again');
