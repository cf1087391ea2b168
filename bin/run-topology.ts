import { parseArgs } from 'node:util';
import { runTopologyCommand } from '../core/runtime/cli.ts';

const { values, positionals } = parseArgs({
  options: { help: { type: 'boolean', short: 'h' }, topologies: { type: 'string' } },
  allowPositionals: true,
});
process.exit(await runTopologyCommand({ name: positionals[0], help: values.help, topologies: values.topologies }));
