import { runCommand } from '../core/component.ts';
import { archiveVerifyCommand } from '../sinks/archive/verify-command.ts';

await runCommand('bin/archive-verify', { options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } } },
  ({ values }) => archiveVerifyCommand(values));
