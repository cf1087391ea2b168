// The end-to-end fault suite's short profile (about 11 minutes): every kind of fault once, against the
// stack (it kills and restarts the stack's Kafka, registry and object store, briefly), then every row
// of its table must be ok.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');

interface Report { ok: boolean; rows: { check: string; expected: string; found: string; ok: boolean | '' }[] }

test('runs the short profile with every check ok', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'sluice-fault-suite-'));
  const child = spawn(join(root, 'bin', 'fault-suite'), ['--minutes', '5', '--seed', '20261202', '--run-dir', runDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  let report: Report;
  try {
    report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as Report;
  } catch {
    throw new Error(`bin/fault-suite exited with ${code} and wrote no report; its output ends:\n${output.slice(-3000)}`);
  }
  // The failing rows, with what was found: the logs are in runDir.
  expect({ runDir, failed: report.rows.filter((r) => r.ok === false) }).toEqual({ runDir, failed: [] });
  expect(report.rows.map((r) => r.check)).toEqual(expect.arrayContaining(['readings', 'archive', 'hourly', 'alerts', 'dlq', 'fault kafka-kill']));
  expect({ code, tail: code === 0 ? '' : output.slice(-2000) }).toEqual({ code: 0, tail: '' });
}, 30 * 60_000);
