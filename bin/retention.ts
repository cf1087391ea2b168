import { runCommand } from '../core/component.ts';
import { retentionCommand } from '../sinks/timescale/retention-command.ts';

await runCommand('bin/retention', { options: { execute: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } },
  ({ values }) => retentionCommand({ execute: values.execute ?? false, force: values.force ?? false, help: values.help }));
