import { retry, type Sink, type SinkFactory } from '../../core/component.ts';

export interface WebhookConfig {
  /** Where each record's value is POSTed as JSON. Never logged: it may carry a token. */
  url: string;
  timeoutMs: number;
  /** Tries per record, with backoff (0.2 s doubling); then the record goes to the DLQ (reason `webhook`). */
  attempts: number;
}

/**
 * POSTs each record's value as JSON. A record the endpoint keeps refusing (or that times out) goes to
 * `sluice.dlq` after `attempts` tries, so a broken webhook delays a batch by a bounded time and never
 * blocks the pipeline. A replay (`bin/replay`) posts nothing: it would notify old alerts again.
 */
export function webhookSink(cfg: WebhookConfig): SinkFactory {
  return async ({ log, replay }) => {
    const post = async (body: string) => {
      const res = await fetch(cfg.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(cfg.timeoutMs) });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`webhook answered ${res.status} ${res.statusText}`);
    };
    const sink: Sink = {
      check: async () => undefined, // calling the endpoint would send it something
      topics: () => [],
      async write(records, _source, reject) {
        if (replay) return;
        const why = (err: unknown) => {
          const e = err as Error & { cause?: { code?: string } };
          return e.name === 'TimeoutError' ? `webhook did not answer within ${cfg.timeoutMs} ms` : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
        };
        for (const r of records) {
          const body = JSON.stringify(r.value);
          await retry(() => post(body), {
            isRetriable: () => true, attempts: cfg.attempts, initialDelayMs: 200, maxDelayMs: 10_000,
            onRetry: (err, attempt) => log.warn({ attempt, error: why(err) }, 'webhook failed; retrying'),
          }).catch((err: unknown) => reject(r, 'webhook', new Error(`${why(err)} (after ${cfg.attempts} attempts)`)));
        }
      },
      close: async () => undefined,
    };
    return sink;
  };
}
