import { pino, type Logger } from 'pino';
import { logLevel, type logCreator } from 'kafkajs';

/** JSON lines on stdout (or, written synchronously, on stderr). Never pass secrets in log fields: configuration is logged by name only. */
export function createLogger(name: string, level = process.env.SLUICE_LOG_LEVEL ?? 'info', to: 'stdout' | 'stderr' = 'stdout'): Logger {
  const opts = { name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  return to === 'stdout' ? pino(opts) : pino(opts, pino.destination({ dest: 2, sync: true }));
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug',
};

/** Routes kafkajs's own logs into ours. */
export const kafkaLogCreator = (log: Logger): logCreator => () => ({ level, log: entry }) => {
  const { message, ...rest } = entry;
  log[levels[level] ?? 'info']({ kafkajs: rest }, message);
};
