import { parseArgs } from 'node:util';
import { replayCommand } from '../core/replay/command.ts';

const { values, positionals } = parseArgs({
  options: {
    from: { type: 'string' }, to: { type: 'string' }, last: { type: 'string' }, 'reset-to': { type: 'string' },
    execute: { type: 'boolean' }, topologies: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
});
process.exit(await replayCommand({ ...values, resetTo: values['reset-to'], topology: positionals[0] }));
