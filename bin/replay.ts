import { parseArgs } from 'node:util';
import { replayCommand, usage } from '../core/replay/command.ts';

let parsed;
try {
  parsed = parseArgs({
    options: {
      from: { type: 'string' }, to: { type: 'string' }, last: { type: 'string' }, 'reset-to': { type: 'string' },
      execute: { type: 'boolean' }, topologies: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
} catch (err) {
  console.error(`bin/replay: ${(err as Error).message}\n\n${usage}`);
  process.exit(2);
}
const { values, positionals } = parsed;
process.exit(await replayCommand({ ...values, resetTo: values['reset-to'], topology: positionals[0] }));
