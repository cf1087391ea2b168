import { parseArgs } from 'node:util';
import { retentionCommand } from '../sinks/timescale/retentionCommand.ts';

const { values } = parseArgs({ options: { execute: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
process.exit(await retentionCommand({ execute: values.execute ?? false, force: values.force ?? false, help: values.help }));
