import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOGGED_PAYLOAD_BYTES, openSimLog, payloadFields, readSimLog, type SentLine } from './simlog.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-simlog-'));

test('what is written is read back: sent lines by seq, acked seqs; a torn last line is left out', () => {
  const file = join(dir, 'torn.jsonl');
  const log = openSimLog(file);
  const reading: SentLine = { e: 'sent', seq: 1, topic: 'sensors/device-001/temperature', payload: '{"value":40.10000001,"time":"2026-06-01T12:00:00.000Z"}', kind: 'reading', device: 'device-001', sensor: 'temperature', value: 40.10000001, time: 1780315200000, episode: 1 };
  const bad: SentLine = { e: 'sent', seq: 2, topic: 'sensors/device-002/temperature', payload: 'not a number #2', kind: 'bad', device: 'device-002', sensor: 'temperature', time: null, reason: 'not-a-number' };
  log.write(reading);
  log.write(bad);
  log.write({ e: 'acked', seq: 1 });
  log.close();
  appendFileSync(file, '{"e":"acked","se');
  const { sent, acked } = readSimLog(file);
  expect([...sent]).toEqual([[1, reading], [2, bad]]);
  expect(acked).toEqual(new Set([1]));
});

test('the line format, field by field', () => {
  const file = join(dir, 'format.jsonl');
  const log = openSimLog(file);
  log.write({ e: 'sent', seq: 3, topic: 't', payload: '22.50000003', kind: 'reading', device: 'device-003', sensor: 'humidity', value: 22.50000003, time: null });
  log.write({ e: 'acked', seq: 3 });
  log.close();
  expect(readFileSync(file, 'utf8')).toBe(
    '{"e":"sent","seq":3,"topic":"t","payload":"22.50000003","kind":"reading","device":"device-003","sensor":"humidity","value":22.50000003,"time":null}\n{"e":"acked","seq":3}\n');
});

test('a bad line before the last is an error, with its line number', () => {
  const file = join(dir, 'bad.jsonl');
  writeFileSync(file, '{"e":"acked","seq":1}\n{"e":"ack\n{"e":"acked","seq":2}\n');
  expect(() => readSimLog(file)).toThrow(`${file}:2: not a JSON line`);
});

test('payloads over 8 KiB are logged as their size and SHA-256', () => {
  expect(payloadFields('x'.repeat(LOGGED_PAYLOAD_BYTES))).toEqual({ payload: 'x'.repeat(LOGGED_PAYLOAD_BYTES) });
  const big = 'y'.repeat(LOGGED_PAYLOAD_BYTES + 1);
  expect(payloadFields(big)).toEqual({ bytes: LOGGED_PAYLOAD_BYTES + 1, sha256: createHash('sha256').update(big).digest('hex') });
});
