/** One service of the local stack. `down` stops only what `start` started. */
export interface Service {
  readonly name: string;
  readonly endpoint: string;
  /** How long `up` waits for the service to answer after starting it. */
  readonly startTimeoutMs: number;
  /** Resolves when the service answers a real request; rejects otherwise. */
  probe(): Promise<void>;
  /** Downloads or installs what is missing; runs before any service starts, one at a time. */
  provision(): void;
  /** Starts it; returns the pid when the process is ours to watch. */
  start(): Promise<number | undefined>;
  /** Idempotent set-up once it answers (databases, buckets). */
  prepare?(): Promise<void>;
  /** Stops it if this stack started it; true when something was stopped. */
  stop(): Promise<boolean>;
}
