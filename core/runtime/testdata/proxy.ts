import { createServer, connect, type Server, type Socket } from 'node:net';

/** A port nothing listens on (for now): connections to it are refused. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface Proxy {
  readonly port: number;
  /** Resolves once the proxy listens. */
  readonly listening: Promise<void>;
  /** Connections it has forwarded. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on a free port of 127.0.0.1 to `target` (host:port) that starts listening only after
 * `delayMs`: until then connections are refused, as by a service that comes up a moment late.
 */
export async function delayedProxy(target: string, delayMs: number): Promise<Proxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  let forwarded = 0;
  const server: Server = createServer((client) => {
    forwarded += 1;
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const listenPort = await freePort();
  let timer: NodeJS.Timeout | undefined;
  const listening = new Promise<void>((resolve) => {
    timer = setTimeout(() => server.listen(listenPort, '127.0.0.1', resolve), delayMs);
  });
  return {
    port: listenPort,
    listening,
    connections: () => forwarded,
    async close() {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}
