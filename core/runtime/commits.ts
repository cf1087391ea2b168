/**
 * Commits of what became durable outside a batch: a buffering sink's timed flush, a stateful task's
 * timed changelog write. The last offset committed is kept per partition: an unchanged one is not
 * sent again, and one whose commit failed is sent again at the next call (each wall-clock tick
 * calls), since no batch may come to commit it on an idle partition.
 */
export function durableCommitter(target: (partition: number) => string | undefined, commit: (partition: number, offset: string) => Promise<void>) {
  const committed = new Map<number, string>();
  return async (partition: number): Promise<void> => {
    const offset = target(partition);
    if (offset === undefined || offset === committed.get(partition)) return;
    await commit(partition, offset);
    committed.set(partition, offset);
  };
}
