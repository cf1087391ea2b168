import { parseArgs } from 'node:util';
import { schemaCommand } from '../sinks/timescale/schemaCommand.ts';

const { values } = parseArgs({ options: { print: { type: 'boolean' }, roles: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
process.exit(await schemaCommand({ print: values.print ?? false, roles: values.roles, help: values.help }));
