import type { OutgoingRecord, RawRecord } from '../kafka/adapter.ts';

/** Header names of dead-letter records. */
export const DLQ_HEADERS = {
  topology: 'sluice.topology',
  topic: 'sluice.source.topic',
  partition: 'sluice.source.partition',
  offset: 'sluice.source.offset',
  reason: 'sluice.reason',
  error: 'sluice.error',
  time: 'sluice.time',
} as const;

export interface DeadLetterOrigin {
  topology: string;
  topic: string;
  partition?: number;
  offset?: string;
}

/**
 * The original key, value and headers, plus headers that say where the record came from and why it
 * was set aside. Error messages are cut to 1000 characters.
 */
export function deadLetter(record: Pick<RawRecord, 'key' | 'value' | 'headers'>, origin: DeadLetterOrigin, reason: string, error: Error, now = new Date()): OutgoingRecord {
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DLQ_HEADERS.topology]: origin.topology,
      [DLQ_HEADERS.topic]: origin.topic,
      ...(origin.partition === undefined ? {} : { [DLQ_HEADERS.partition]: String(origin.partition) }),
      ...(origin.offset === undefined ? {} : { [DLQ_HEADERS.offset]: origin.offset }),
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.error]: error.message.slice(0, 1000),
      [DLQ_HEADERS.time]: now.toISOString(),
    },
  };
}
