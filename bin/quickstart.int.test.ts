// The README's first command, as a newcomer runs it (bounded by QUICKSTART_SECONDS instead of Ctrl-C).
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';

jest.setTimeout(400_000);

const listening = (port: number) => new Promise<boolean>((res) => {
  const s = createConnection({ host: '127.0.0.1', port }, () => (s.end(), res(true)));
  s.on('error', () => res(false));
});

test('bin/quickstart runs the whole pipeline with a live status line, drains, prints the summary and stops everything it started', async () => {
  const child = spawn(join(__dirname, 'quickstart'), [], { env: { ...process.env, QUICKSTART_SECONDS: '8' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('exit', res));
  expect({ code, tail: code === 0 ? '' : out.slice(-3000) }).toEqual({ code: 0, tail: '' });

  for (const name of ['ingest', 'timescale-sink', 'alerting', 'hourly-aggregates', 'archiver']) expect(out).toContain(`started ${name}: http://127.0.0.1:`);
  expect(out).toMatch(/in \d+\/s · stored \d+\/s \(\d+ rows\) · lag \d+ \(uncommitted \d+\) · open alerts \d+ · DLQ \d+ · ready 5\/5/);
  const sent = /sent (\d+) messages .*PUBACKs (\d+)/.exec(out);
  expect(sent?.[1]).toBe(sent?.[2]);
  expect(Number(sent?.[1])).toBeGreaterThan(0);
  expect(out).not.toContain('not drained');
  expect(out).toMatch(/0 differing; 0 rows archived twice/);
  // Every process it started is gone: their ops ports are free again.
  for (const port of [9464, 9465, 9466, 9467, 9468]) expect(await listening(port)).toBe(false);
});
