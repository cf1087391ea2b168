import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  runCommand, ConfigError, connectKafka, createLogger, drained, pipelineStatus, statusLine,
  type PipelineProcess, type PipelineStatus,
} from '../core/component.ts';
import { topologies } from '../topologies/index.ts';

const usage = `usage: bin/status [--interval <s>] [--until-drained [--timeout <s>]] [--once]

One line of the pipeline's health, again every --interval seconds (2) until Ctrl-C: MQTT messages
in per second, rows stored per second, the lag of every consumer group, open alerts, dead letters,
and how many processes answer /ready. Reads each shipped process's /metrics on its default ops
port, Kafka (KAFKA_BROKERS) and the alerts table (TIMESCALE_URL, optional).

  --until-drained  exit 0 once nothing is unacknowledged and every group has committed all its
                   input, 1 after --timeout seconds (120)
  --once           print one line and exit`;

const number = (name: string, v: string | undefined, def: number) => {
  const n = v === undefined ? def : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${name} must be a positive number of seconds, got ${JSON.stringify(v)}`);
  return n;
};

await runCommand('bin/status', {
  options: { interval: { type: 'string' }, timeout: { type: 'string' }, 'until-drained': { type: 'boolean' }, once: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
}, async ({ values }) => {
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const interval = number('interval', values.interval, 2);
  const timeoutS = number('timeout', values.timeout, 120);
  const deadline = Date.now() + timeoutS * 1000;
  if (!process.env.KAFKA_BROKERS) throw new ConfigError('KAFKA_BROKERS: not set (eval "$(bin/stack env)")');
  const source = process.env.INGEST_TOPIC ?? 'sensor-readings';
  const processes: PipelineProcess[] = topologies.map((t) => ({ name: t.name, port: t.opsPort ?? 9464, ...('kind' in t ? {} : { source }) }));
  const kafka = await connectKafka(process.env.KAFKA_BROKERS.split(','), 'sluice-status', createLogger('status', 'error', 'stderr'), { timeoutMs: 10_000 });
  const db = process.env.TIMESCALE_URL ? new pg.Pool({ connectionString: process.env.TIMESCALE_URL, max: 1 }) : undefined;
  db?.on('error', () => undefined);
  const tty = process.stdout.isTTY;
  let before: PipelineStatus | undefined;
  let calm = 0;
  try {
    for (;;) {
      const now = await pipelineStatus(processes, kafka, db);
      const line = statusLine(now, before, interval);
      process.stdout.write(tty && !values.once ? `\r${line.padEnd(process.stdout.columns ? process.stdout.columns - 1 : 0)}` : `${line}\n`);
      if (values.once) return 0;
      // Twice in a row: a group that has just committed may be about to read more.
      calm = drained(now) ? calm + 1 : 0;
      if (values['until-drained'] && (calm >= 2 || Date.now() > deadline)) {
        if (tty) process.stdout.write('\n');
        if (calm >= 2) return 0;
        console.error(`bin/status: the pipeline did not drain within ${timeoutS} s`);
        return 1;
      }
      before = now;
      await sleep(interval * 1000);
    }
  } finally {
    await kafka.close();
    await db?.end();
  }
});
