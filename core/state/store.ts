import { SluiceError } from '../errors.ts';

/**
 * A task's keyed state, in memory. Every change is also remembered until the runtime drains it to
 * the store's changelog topic, which is what the store is rebuilt from after a restart or a
 * rebalance. Values must survive JSON.
 */
export class KeyValueStore<V> {
  private readonly data = new Map<string, V>();
  private readonly dirty = new Set<string>();

  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  get(key: string): V | undefined {
    return this.data.get(key);
  }

  put(key: string, value: V): void {
    if (key.startsWith('\u0000')) throw new SluiceError(`store ${this.name}: keys starting with \\u0000 are reserved, got ${JSON.stringify(key)}`);
    this.data.set(key, value);
    this.dirty.add(key);
  }

  delete(key: string): void {
    if (this.data.delete(key)) this.dirty.add(key);
  }

  get size(): number {
    return this.data.size;
  }

  /** Keys changed since the last drain. */
  get pending(): number {
    return this.dirty.size;
  }

  entries(): IterableIterator<[string, V]> {
    return this.data.entries();
  }

  /** Changes since the last drain: [key, value], undefined for a deleted key. */
  drain(): [string, V | undefined][] {
    const out: [string, V | undefined][] = [];
    for (const key of this.dirty) out.push([key, this.data.get(key)]);
    this.dirty.clear();
    return out;
  }

  /** Applies a changelog entry without marking it as a change. */
  restore(key: string, value: V | undefined): void {
    if (value === undefined) this.data.delete(key);
    else this.data.set(key, value);
  }
}
