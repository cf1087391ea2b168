import { runCommand, ConfigError, runTopologyCommand } from '../core/component.ts';
import { shippedTopologies } from './lib/shipped.ts';

await runCommand('bin/run-topology', {
  options: { help: { type: 'boolean', short: 'h' }, check: { type: 'boolean' }, topologies: { type: 'string' } },
  allowPositionals: true,
}, ({ values, positionals }) => {
  if (positionals.length > 1) throw new ConfigError(`expected one topology name, got ${positionals.length}: ${positionals.join(' ')}`);
  return runTopologyCommand({ name: positionals[0], help: values.help, check: values.check, topologies: values.topologies ?? shippedTopologies });
});
