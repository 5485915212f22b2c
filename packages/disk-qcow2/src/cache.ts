/**
 * A bounded write-back cache of metadata tables (L2 tables, refcount blocks),
 * one host cluster each, keyed by host offset and evicted least recently used.
 *
 * Dirty tables reach the file on eviction and on `flush`. `beforeStore` runs
 * before any dirty table is written, which is how the image keeps the
 * "refcounts before L2 links" write order of crash-safe allocation.
 */
export class TableCache {
  private readonly entries = new Map<number, { buf: Uint8Array; dirty: boolean }>();

  constructor(
    private readonly capacity: number,
    private readonly load: (offset: number) => Promise<Uint8Array>,
    private readonly store: (offset: number, buf: Uint8Array) => Promise<void>,
    private readonly beforeStore: () => Promise<void> = async () => {},
  ) {}

  /** Returns the table at `offset`, loading it on a miss. */
  async get(offset: number): Promise<Uint8Array> {
    const hit = this.entries.get(offset);
    if (hit) {
      this.entries.delete(offset);
      this.entries.set(offset, hit);
      return hit.buf;
    }
    const buf = await this.load(offset);
    await this.insert(offset, buf, false);
    return buf;
  }

  /** Records that `buf`, the table at `offset`, was modified (re-inserting it if it was evicted meanwhile). */
  async markDirty(offset: number, buf: Uint8Array): Promise<void> {
    await this.insert(offset, buf, true);
  }

  /** Forgets the table at `offset` without writing it (its cluster was freed). */
  drop(offset: number): void {
    this.entries.delete(offset);
  }

  /** Forgets every table; callers flush first. */
  clear(): void {
    this.entries.clear();
  }

  /** Writes every dirty table. */
  async flush(): Promise<void> {
    const dirty = [...this.entries].filter(([, e]) => e.dirty);
    if (dirty.length === 0) return;
    await this.beforeStore();
    dirty.sort((a, b) => a[0] - b[0]);
    for (const [offset, e] of dirty) {
      await this.store(offset, e.buf);
      e.dirty = false;
    }
  }

  private async insert(offset: number, buf: Uint8Array, dirty: boolean): Promise<void> {
    const old = this.entries.get(offset);
    this.entries.delete(offset);
    this.entries.set(offset, { buf, dirty: dirty || (old?.dirty ?? false) });
    while (this.entries.size > this.capacity) {
      const [victim, e] = this.entries.entries().next().value as [
        number,
        { buf: Uint8Array; dirty: boolean },
      ];
      if (victim === offset) break;
      this.entries.delete(victim);
      if (e.dirty) {
        await this.beforeStore();
        await this.store(victim, e.buf);
      }
    }
  }
}
