/**
 * qcow2 reference counts: the refcount table, refcount blocks of any width
 * (1 to 64 bits), cluster allocation and growth of the refcount structures.
 *
 * Spec: QEMU docs/interop/qcow2.txt, "Host cluster management". A refcount
 * block holds cluster_size * 8 / refcount_bits entries; entries narrower than
 * a byte are packed starting at the least significant bit, wider ones are
 * big-endian.
 *
 * Crash safety (each step below is separated by a flush of the source, a
 * write barrier): a new refcount block is written (counting itself when it
 * covers its own cluster) before the refcount table entry that links it, and
 * a grown refcount table with its blocks is written and counted before the
 * header points at it. Increments may therefore reach the file at any time;
 * the image applies decrements only after the tables that dropped the
 * references are written (see `Qcow2Image.flush`).
 *
 * Deviation: refcounts are held as JS numbers, so 64-bit refcounts above
 * 2^53 - 1 are reported as corrupt.
 */
import {
  CorruptDataError,
  readU16BE,
  readU32BE,
  UnsupportedError,
  writeU16BE,
  writeU32BE,
  writeU64BE,
} from "@backplane/core";
import type { ByteSource } from "@backplane/disk";
import { TableCache } from "./cache.js";
import { readOffset } from "./header.js";

/** Reads entry `i` of a refcount block with 2^order-bit entries. */
export function getRefcount(b: Uint8Array, i: number, order: number): number {
  switch (order) {
    case 3:
      return b[i];
    case 4:
      return readU16BE(b, i * 2);
    case 5:
      return readU32BE(b, i * 4);
    case 6:
      return readOffset(b, i * 8, "64-bit refcount");
    default: {
      const bits = 1 << order;
      const shift = (i & ((8 >> order) - 1)) * bits;
      return (b[i >> (3 - order)] >> shift) & ((1 << bits) - 1);
    }
  }
}

/** Writes entry `i` of a refcount block with 2^order-bit entries. */
export function setRefcount(b: Uint8Array, i: number, order: number, v: number): void {
  switch (order) {
    case 3:
      b[i] = v;
      return;
    case 4:
      writeU16BE(b, i * 2, v);
      return;
    case 5:
      writeU32BE(b, i * 4, v);
      return;
    case 6:
      writeU64BE(b, i * 8, BigInt(v));
      return;
    default: {
      const bits = 1 << order;
      const shift = (i & ((8 >> order) - 1)) * bits;
      const mask = ((1 << bits) - 1) << shift;
      const at = i >> (3 - order);
      b[at] = (b[at] & ~mask) | ((v << shift) & mask);
    }
  }
}

export interface RefcountLayout {
  tableOffset: number;
  tableClusters: number;
}

/** The refcount structures of one open image. */
export class Refcounts {
  readonly entriesPerBlock: number;
  readonly maxRefcount: number;
  /** Refcount table entries (host offsets of refcount blocks, 0 = none). */
  table: number[];
  readonly cache: TableCache;
  /** No cluster below this index is free. */
  private freeHint = 0;
  /** Counts clusters freed so far: anything remembered about a host cluster is stale once this changes. */
  freeEpoch = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly clusterBits: number,
    readonly order: number,
    public layout: RefcountLayout,
    table: number[],
    cacheEntries: number,
    /** Installs a new refcount table in the header. */
    private readonly writeTableLocation: (layout: RefcountLayout) => Promise<void>,
  ) {
    this.entriesPerBlock = (2 ** clusterBits * 8) >> order;
    this.maxRefcount = order === 6 ? Number.MAX_SAFE_INTEGER : 2 ** (1 << order) - 1;
    this.table = table;
    const cs = 2 ** clusterBits;
    this.cache = new TableCache(
      cacheEntries,
      async (off) => {
        const buf = new Uint8Array(cs);
        if ((await source.read(off, buf)) !== cs) {
          throw new CorruptDataError(
            `qcow2: refcount block at 0x${off.toString(16)} extends past the end of the file`,
          );
        }
        return buf;
      },
      (off, buf) => source.write(off, buf),
    );
  }

  /** Reads the refcount table of an image. */
  static async readTable(
    source: ByteSource,
    offset: number,
    clusters: number,
    clusterBits: number,
  ): Promise<number[]> {
    const buf = new Uint8Array(clusters * 2 ** clusterBits);
    await source.read(offset, buf);
    const out: number[] = new Array(buf.length / 8);
    for (let i = 0; i < out.length; i++) {
      const off = readOffset(buf, i * 8, "refcount table entry");
      if (off % 2 ** clusterBits !== 0) {
        throw new CorruptDataError(
          `qcow2: refcount block offset 0x${off.toString(16)} is not cluster aligned`,
        );
      }
      out[i] = off;
    }
    return out;
  }

  private get clusterSize(): number {
    return 2 ** this.clusterBits;
  }

  /** The refcount of host cluster `cluster` (an index, not an offset). */
  async get(cluster: number): Promise<number> {
    const idx = Math.floor(cluster / this.entriesPerBlock);
    const blockOffset = this.table[idx];
    if (!blockOffset) return 0;
    const block = await this.cache.get(blockOffset);
    return getRefcount(block, cluster % this.entriesPerBlock, this.order);
  }

  /** Adds `delta` to the refcount of host cluster `cluster`. */
  async update(cluster: number, delta: number): Promise<number> {
    const idx = Math.floor(cluster / this.entriesPerBlock);
    const blockOffset = await this.ensureBlock(idx);
    const block = await this.cache.get(blockOffset);
    const i = cluster % this.entriesPerBlock;
    const v = getRefcount(block, i, this.order) + delta;
    if (v < 0) throw new CorruptDataError(`qcow2: refcount of cluster ${cluster} would drop below zero`);
    if (v > this.maxRefcount) {
      throw new UnsupportedError(`qcow2: refcount of cluster ${cluster} would exceed ${this.maxRefcount}`);
    }
    setRefcount(block, i, this.order, v);
    await this.cache.markDirty(blockOffset, block);
    if (v === 0) {
      this.freeEpoch++;
      if (cluster < this.freeHint) this.freeHint = cluster;
    }
    return v;
  }

  /** Allocates `n` contiguous free clusters with refcount 1; returns the host offset of the first. */
  async alloc(n: number): Promise<number> {
    for (;;) {
      const start = await this.findFree(n);
      let ready = true;
      const first = Math.floor(start / this.entriesPerBlock);
      const last = Math.floor((start + n - 1) / this.entriesPerBlock);
      for (let idx = first; idx <= last; idx++) {
        if (!this.table[idx]) {
          await this.ensureBlock(idx);
          ready = false;
        }
      }
      if (!ready) continue; // making blocks allocated clusters: search again
      // The clusters were free (refcount 0): set them to 1, one refcount block at a time.
      for (let c = start; c < start + n; ) {
        const idx = Math.floor(c / this.entriesPerBlock);
        const block = await this.cache.get(this.table[idx]);
        const end = Math.min(start + n, (idx + 1) * this.entriesPerBlock);
        for (; c < end; c++) setRefcount(block, c % this.entriesPerBlock, this.order, 1);
        await this.cache.markDirty(this.table[idx], block);
      }
      this.freeHint = start + n;
      return start * this.clusterSize;
    }
  }

  /** Finds `n` contiguous clusters with refcount 0, from the lowest possible index. */
  private async findFree(n: number): Promise<number> {
    let start = this.freeHint;
    let c = start;
    while (c < start + n) {
      const idx = Math.floor(c / this.entriesPerBlock);
      const blockEnd = (idx + 1) * this.entriesPerBlock;
      if (!this.table[idx]) {
        // No block: every cluster it would cover is free.
        c = blockEnd;
        continue;
      }
      const block = await this.cache.get(this.table[idx]);
      for (; c < blockEnd && c < start + n; c++) {
        if (getRefcount(block, c - idx * this.entriesPerBlock, this.order) !== 0) start = c + 1;
      }
    }
    return start;
  }

  /** Returns the offset of refcount block `idx`, creating it (and growing the table) if needed. */
  private async ensureBlock(idx: number): Promise<number> {
    if (idx >= this.table.length) await this.growTable(idx);
    if (this.table[idx]) return this.table[idx];
    const c = await this.findFree(1);
    const block = new Uint8Array(this.clusterSize);
    if (Math.floor(c / this.entriesPerBlock) === idx) {
      setRefcount(block, c % this.entriesPerBlock, this.order, 1);
    } else {
      // Counted by another block: that count must be in the file before the table links the new block.
      await this.update(c, 1);
      await this.cache.flush();
    }
    const off = c * this.clusterSize;
    await this.source.write(off, block);
    await this.source.flush(); // barrier: the block is in the file before the table links it
    const entry = new Uint8Array(8);
    writeU64BE(entry, 0, BigInt(off));
    await this.source.write(this.layout.tableOffset + idx * 8, entry);
    this.table[idx] = off;
    await this.cache.markDirty(off, block);
    return off;
  }

  /**
   * Replaces the refcount table with a larger one that has room for entry
   * `minIdx`. The new table and the blocks that count it are written and
   * counted before the header switches to it; the old table is returned for
   * the caller to free.
   */
  private async growTable(minIdx: number): Promise<void> {
    const cs = this.clusterSize;
    const entries = Math.max(minIdx + 1, this.table.length * 2);
    const tableClusters = Math.ceil((entries * 8) / cs);
    if (tableClusters * cs > 8 * 1024 * 1024)
      throw new UnsupportedError("qcow2: refcount table would exceed 8 MiB");
    const newTable = this.table.slice();
    newTable.length = (tableClusters * cs) / 8;
    newTable.fill(0, this.table.length);
    let blocks = 0;
    let start = 0;
    let missing: number[] = [];
    for (;;) {
      start = await this.findFree(tableClusters + blocks);
      missing = [];
      const end = start + tableClusters + blocks;
      for (let idx = Math.floor(start / this.entriesPerBlock); idx * this.entriesPerBlock < end; idx++) {
        if (!newTable[idx]) missing.push(idx);
      }
      if (missing.length <= blocks) break;
      blocks = missing.length;
    }
    const used = tableClusters + missing.length;
    const newBlocks = new Map<number, Uint8Array>();
    missing.forEach((idx, k) => {
      newTable[idx] = (start + tableClusters + k) * cs;
      newBlocks.set(idx, new Uint8Array(cs));
    });
    for (let c = start; c < start + used; c++) {
      const block = newBlocks.get(Math.floor(c / this.entriesPerBlock));
      if (block) setRefcount(block, c % this.entriesPerBlock, this.order, 1);
      else await this.update(c, 1);
    }
    for (const [idx, block] of newBlocks) await this.source.write(newTable[idx], block);
    const tableBuf = new Uint8Array(tableClusters * cs);
    newTable.forEach((off, i) => {
      if (off) writeU64BE(tableBuf, i * 8, BigInt(off));
    });
    await this.source.write(start * cs, tableBuf);
    await this.cache.flush();
    await this.source.flush(); // barrier: table, blocks and counts are in the file before the header moves
    const old = this.layout;
    this.layout = { tableOffset: start * cs, tableClusters };
    this.table = newTable;
    await this.writeTableLocation(this.layout);
    this.freeHint = start + used;
    this.onOldTable?.(old);
  }

  /** Switches to refcount structures written elsewhere (after a rebuild); the cache must be flushed. */
  replace(layout: RefcountLayout, table: number[]): void {
    this.layout = layout;
    this.table = table;
    this.cache.clear();
    this.freeHint = 0;
    this.freeEpoch++;
  }

  /** Called with the previous table's location after the table was moved, so the image can free it. */
  onOldTable?: (old: RefcountLayout) => void;
}
