/** Where an error happened, as far as it is known. */
export interface ErrorContext {
  component?: string;
  topic?: string;
  partition?: number;
  offset?: string;
}

/** Root of Sluice's errors: `retriable` says whether trying again can help. */
export class SluiceError extends Error {
  override readonly name: string = 'SluiceError';
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(message: string, opts: { retriable?: boolean; context?: ErrorContext; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.retriable = opts.retriable ?? false;
    this.context = opts.context ?? {};
  }
}

/** Configuration that cannot work; the message names each variable and what is wrong with it. */
export class ConfigError extends SluiceError {
  override readonly name = 'ConfigError';
}
