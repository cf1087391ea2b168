import { SluiceError } from '../errors.ts';

/** Why a record could not be decoded; becomes the `reason` header of its dead-letter record. */
export type SerdeReason = 'empty' | 'truncated' | 'bad-magic' | 'unknown-schema' | 'corrupt' | 'incompatible-schema';

export class SerdeError extends SluiceError {
  override readonly name = 'SerdeError';
  readonly reason: SerdeReason;

  constructor(reason: SerdeReason, message: string, retriable = false) {
    super(message, { retriable });
    this.reason = reason;
  }
}
