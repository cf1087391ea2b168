import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { SluiceError } from '../errors.ts';

export interface OpsOptions {
  port: number;
  metrics: Registry;
  /** Resolves with per-dependency results; any `false` makes /ready answer 503. */
  ready(): Promise<Record<string, boolean | string>>;
}

/** Listens on `port` (all interfaces); a port taken or refused is a one-line SluiceError naming SLUICE_OPS_PORT. */
async function listen(server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is in use' : err.code === 'EACCES' ? 'may not be used by this user' : 'cannot be listened on';
      reject(new SluiceError(`port ${port} ${why} (SLUICE_OPS_PORT): ${err.message}`, { cause: err, context: { component: 'ops' } }));
    });
    server.listen(port, '0.0.0.0', resolve);
  });
}

/**
 * Fails as `startOpsServer` would if `port` cannot be listened on now (0: any port, never fails), so
 * that a process started on a taken port says so at once, before it connects to anything.
 */
export async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await listen(probe, port);
  await new Promise((resolve) => probe.close(resolve));
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
  await listen(server, opts.port);
  return server;
}
