import { parseArgs } from 'node:util';
import { archiveVerifyCommand } from '../sinks/archive/verifyCommand.ts';

const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
process.exit(await archiveVerifyCommand(values));
