/**
 * The simulator's log (`bin/simulate-devices --log <file>`): one JSON line per published message and
 * one per PUBACK, so that a fault test can tell which messages the broker took and match each one to
 * a stored row or a dead letter.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { RejectReason } from './parse.ts';

/** Payloads longer than this (bytes) are logged as their size and SHA-256, like a cut dead letter. */
export const LOGGED_PAYLOAD_BYTES = 8 * 1024;

interface SentBase {
  e: 'sent';
  /** The message's number in the run, from 1. */
  seq: number;
  topic: string;
  /** The payload text; absent when it is over LOGGED_PAYLOAD_BYTES, then `bytes` and `sha256` say what it was. */
  payload?: string;
  bytes?: number;
  sha256?: string;
  device: string;
  sensor: string;
  /** The device time in the payload (ms), null when the payload carries none. */
  time: number | null;
}

export interface SentReading extends SentBase {
  kind: 'reading';
  value: number;
  /** The anomaly episode this reading belongs to (`--episodes`). */
  episode?: number;
}

export interface SentBad extends SentBase {
  kind: 'bad';
  /** The `sluice.reason` ingest gives it in the dead-letter topic. */
  reason: RejectReason;
}

export type SentLine = SentReading | SentBad;

export interface AckedLine {
  e: 'acked';
  seq: number;
}

export type SimLogLine = SentLine | AckedLine;

/** What a sent line says of its payload: the text, or its size and digest when it is large. */
export function payloadFields(payload: string): Pick<SentBase, 'payload' | 'bytes' | 'sha256'> {
  const bytes = Buffer.byteLength(payload);
  if (bytes <= LOGGED_PAYLOAD_BYTES) return { payload };
  return { bytes, sha256: createHash('sha256').update(payload).digest('hex') };
}

export interface SimLog {
  write(line: SimLogLine): void;
  close(): void;
}

/** Appends to `file`. Each line is one synchronous write: what the process wrote is in the file when it exits, whichever way. */
export function openSimLog(file: string): SimLog {
  const fd = openSync(file, 'a');
  return {
    write: (line) => void writeSync(fd, `${JSON.stringify(line)}\n`),
    close: () => closeSync(fd),
  };
}

/**
 * Reads a log: sent lines by seq, and the seqs acknowledged. A last line without its newline (the
 * process died while writing it) is left out; a bad line elsewhere is an error.
 */
export function readSimLog(file: string): { sent: Map<number, SentLine>; acked: Set<number> } {
  const sent = new Map<number, SentLine>();
  const acked = new Set<number>();
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((text, i) => {
    if (text === '') return;
    let line: SimLogLine;
    try {
      line = JSON.parse(text) as SimLogLine;
    } catch (err) {
      if (i === lines.length - 1) return;
      throw new Error(`${file}:${i + 1}: not a JSON line: ${(err as Error).message}`);
    }
    if (line.e === 'sent') sent.set(line.seq, line);
    else if (line.e === 'acked') acked.add(line.seq);
  });
  return { sent, acked };
}
