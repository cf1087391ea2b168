import { createServer } from 'node:http';
import { Registry } from 'prom-client';
import { SluiceError } from '../errors.ts';
import { assertPortFree, startOpsServer } from './ops.ts';

test('a port in use is a SluiceError naming the port and SLUICE_OPS_PORT, from the probe and from the server', async () => {
  const first = await startOpsServer({ port: 0, metrics: new Registry(), ready: async () => ({}) });
  const { port } = first.address() as { port: number };
  try {
    const expected = `port ${port} is in use (SLUICE_OPS_PORT): listen EADDRINUSE: address already in use 0.0.0.0:${port}`;
    await expect(startOpsServer({ port, metrics: new Registry(), ready: async () => ({}) })).rejects.toThrow(expected);
    await expect(startOpsServer({ port, metrics: new Registry(), ready: async () => ({}) })).rejects.toBeInstanceOf(SluiceError);
    await expect(assertPortFree(port)).rejects.toThrow(expected);
  } finally {
    first.close();
  }
});

test('a free port passes the probe and can be listened on right after', async () => {
  const probe = createServer();
  await new Promise<void>((res) => probe.listen(0, '0.0.0.0', res));
  const { port } = probe.address() as { port: number };
  await new Promise((res) => probe.close(res));
  await assertPortFree(port);
  const server = await startOpsServer({ port, metrics: new Registry(), ready: async () => ({}) });
  server.close();
});
