import { explain, runCommand } from '../core/component.ts';
import { simulateDevices, simulateOptionsFrom, simulateUsage } from '../connectors/mqtt/simulate.ts';

const text = { type: 'string' } as const;
await runCommand('bin/simulate-devices', {
  options: {
    devices: text, sensors: text, rate: text, count: text, duration: text, qos: text, format: text, anomalies: text, prefix: text, broker: text,
    episodes: text, 'episode-gap-ms': text, bad: text, log: text,
    help: { type: 'boolean', short: 'h' },
  },
}, async ({ values: { help, ...v } }) => {
  if (help) {
    console.log(simulateUsage);
    return 0;
  }
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  const o = { ...simulateOptionsFrom(v), signal: stop.signal };
  const result = await explain(`cannot publish to ${o.broker}`, simulateDevices(o));
  console.log(`sent ${result.sent} messages in ${result.seconds.toFixed(2)} s: ${(result.sent / result.seconds).toFixed(0)} msg/s; ` +
    `PUBACKs ${result.pubacks}${o.qos === 0 ? ' (QoS 0: none expected)' : result.unacked > 0 ? ` (${result.unacked} still unacknowledged)` : ''}; ` +
    `temperature anomalies ${result.anomalies}; episodes ${result.episodes} of ${o.episodes}; bad messages ${result.bad}; ` +
    `reconnects ${result.reconnects}${o.log === undefined ? '' : `; log ${o.log}`}`);
  return 0;
});
