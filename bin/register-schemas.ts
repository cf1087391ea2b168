import { runCommand, registerSchemasCommand } from '../core/component.ts';

await runCommand('bin/register-schemas', { options: { 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } },
  ({ values }) => registerSchemasCommand({ dryRun: values['dry-run'] ?? false, help: values.help ?? false }));
