import { Subject, type OperatorFunction } from 'rxjs';
import type { InRecord, OutRecord } from '../topology.ts';
import { SluiceError } from '../errors.ts';

/**
 * One partition's instance of a pipeline. Records go in one batch at a time; whatever the pipeline
 * emits while a batch is pushed belongs to that batch, so its offsets can be committed after it.
 */
export class Task<V> {
  private readonly input = new Subject<InRecord<V>>();
  private collected: OutRecord[] | undefined;
  private failure: unknown;

  constructor(pipeline: OperatorFunction<InRecord<V>, OutRecord>) {
    this.input.pipe(pipeline).subscribe({
      next: (out) => {
        if (this.collected) this.collected.push(out);
        else this.failure ??= new SluiceError('the pipeline emitted outside a batch: use operators that emit synchronously');
      },
      error: (err: unknown) => {
        this.failure ??= err;
      },
    });
  }

  /** Runs `records` through the pipeline; throws, naming the record, when the pipeline fails. */
  process(records: readonly InRecord<V>[]): OutRecord[] {
    const out: OutRecord[] = [];
    this.collected = out;
    try {
      for (const r of records) {
        this.input.next(r);
        if (this.failure !== undefined) {
          const cause = this.failure;
          throw new SluiceError(`pipeline failed at ${r.topic}/${r.partition}@${r.offset}: ${cause instanceof Error ? cause.message : String(cause)}`, {
            cause, context: { topic: r.topic, partition: r.partition, offset: r.offset },
          });
        }
      }
      return out;
    } finally {
      this.collected = undefined;
    }
  }

  close(): void {
    this.input.complete();
  }
}
