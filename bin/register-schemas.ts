import { parseArgs } from 'node:util';
import { registerSchemasCommand } from '../core/serde/registerCommand.ts';

const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
process.exit(await registerSchemasCommand({ dryRun: values['dry-run'] ?? false, help: values.help ?? false }));
