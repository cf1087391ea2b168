import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSettings, sections } from './lib/docs.ts';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

test('the README documents every setting as its declaration does (bin/docs makes the tables)', () => {
  for (const name of Object.keys(sections)) expect(readme).toContain(`<!-- settings: ${name} -->`);
  expect(renderSettings(readme)).toBe(readme);
});

test('a table is made from the declarations: a changed default shows', () => {
  const stale = readme.replace(/\| `SLUICE_PARTITIONS` \| `6` \|/, '| `SLUICE_PARTITIONS` | `7` |');
  expect(stale).not.toBe(readme);
  expect(renderSettings(stale)).toBe(readme);
  expect(() => renderSettings('<!-- settings: nope -->\n<!-- /settings -->')).toThrow(/unknown settings section "nope"/);
});
