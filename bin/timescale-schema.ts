import { runCommand } from '../core/component.ts';
import { schemaCommand } from '../sinks/timescale/schema-command.ts';

await runCommand('bin/timescale-schema', { options: { print: { type: 'boolean' }, roles: { type: 'string' }, help: { type: 'boolean', short: 'h' } } },
  ({ values }) => schemaCommand({ print: values.print ?? false, roles: values.roles, help: values.help }));
