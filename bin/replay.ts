import { runCommand, ConfigError, replayCommand } from '../core/component.ts';
import { shippedTopologies } from './lib/shipped.ts';

await runCommand('bin/replay', {
  options: {
    from: { type: 'string' }, to: { type: 'string' }, last: { type: 'string' }, 'reset-to': { type: 'string' },
    execute: { type: 'boolean' }, topologies: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
}, ({ values, positionals: [topology, ...extra] }) => {
  if (extra.length > 0) throw new ConfigError(`one topology at a time, got also "${extra.join(' ')}"`);
  return replayCommand({ ...values, resetTo: values['reset-to'], topology, topologies: values.topologies ?? shippedTopologies });
});
