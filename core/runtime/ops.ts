import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface OpsOptions {
  port: number;
  metrics: Registry;
  /** Resolves with per-dependency results; any `false` makes /ready answer 503. */
  ready(): Promise<Record<string, boolean | string>>;
}

/** /health (the process answers), /ready (source and sinks reachable), /metrics (Prometheus). */
export async function startOpsServer(opts: OpsOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const reply = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const route = async () => {
      switch (req.url) {
        case '/health':
          return reply(200, JSON.stringify({ status: 'ok' }));
        case '/ready': {
          const checks = await opts.ready();
          const ok = Object.values(checks).every((v) => v === true);
          return reply(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ready' : 'not ready', checks }));
        }
        case '/metrics':
          return reply(200, await opts.metrics.metrics(), opts.metrics.contentType);
        default:
          return reply(404, JSON.stringify({ error: 'not found', paths: ['/health', '/ready', '/metrics'] }));
      }
    };
    route().catch((err: unknown) => reply(500, JSON.stringify({ error: String(err) })));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '0.0.0.0', resolve);
  });
  return server;
}
