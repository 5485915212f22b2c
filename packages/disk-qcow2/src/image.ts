/**
 * An open qcow2 image: guest reads and writes through the L1/L2 mapping,
 * allocation with crash-safe write ordering, zero clusters, discard,
 * compressed clusters, internal snapshots, resize, info and block status.
 *
 * Spec: QEMU docs/interop/qcow2.txt — "Cluster mapping" (L1/L2, standard and
 * compressed descriptors, extended L2 entries), "Host cluster management"
 * (refcounts, QCOW_OFLAG_COPIED), "Snapshots", and the dirty bit / lazy
 * refcounts feature bits of the "Header".
 *
 * Write ordering (crash safety): a new cluster is counted, its data written,
 * and only then linked (the data write itself runs outside the image lock,
 * see `write`). Data goes to the file at once; dirty L2 tables are
 * written after the refcount blocks (the L2 cache's `beforeStore`), the L1
 * table after the L2 tables, and references dropped by a rewrite are freed
 * only after the rewritten tables reached the file (`pendingFrees`). A writer
 * killed at any point therefore leaves at worst leaked clusters. Each ordered
 * step ends with a flush of the source (a write barrier), so the order holds
 * on hosts that reorder unflushed writes too.
 *
 * Deviation: images with extended L2 entries are read only (subclusters are
 * read, not written). With lazy_refcounts the dirty bit is set while the
 * image is open for writing but refcounts are still kept exact; a dirty image
 * opened for writing is repaired by rebuilding its refcounts. Resizing an
 * image that has snapshots is refused. Growing makes all new space read as
 * zeroes, also the tail of a cluster cut by an earlier shrink (QEMU 7.2 shows
 * that cluster's old bytes there).
 *
 * Internal snapshots live in snapshot.ts, check and repair in check.ts.
 */
import {
  CorruptDataError,
  InvalidArgumentError,
  ReadOnlyError,
  readU32BE,
  UnsupportedError,
  type WriteZeroesOptions,
} from "@backplane/core";
import {
  type ByteSource,
  type CheckResult,
  type Compressor,
  checkRange,
  type DiskImage,
  granules,
  type ImageInfo,
  type MapExtent,
  type OpenOptions,
  SerialQueue,
  type SnapshotInfo,
} from "@backplane/disk";
import { TableCache } from "./cache.js";
import { checkImage } from "./check.js";
import { decompressCluster, defaultCompressor } from "./compress.js";
import {
  ClusterType,
  checkAligned,
  clusterType,
  compressedClusters,
  compressedRange,
  entryCopied,
  entryOffset,
  setCompressedEntry,
  setCopied,
  setEntry,
} from "./entries.js";
import {
  COMPAT_LAZY_REFCOUNTS,
  COMPRESSION_ZSTD,
  INCOMPAT_CORRUPT,
  INCOMPAT_DIRTY,
  INCOMPAT_EXTL2,
  MAX_L1_BYTES,
  parseHeader,
  parseSnapshots,
  type Qcow2Header,
  type SnapshotEntry,
  serializeHeader,
  writeHeaderFields,
} from "./header.js";
import { Refcounts } from "./refcount.js";
import { applySnapshot, createSnapshot, deleteSnapshot, findSnapshot, snapshotInfos } from "./snapshot.js";

/** Tuning for {@link Qcow2Image.open}. */
export interface Qcow2OpenOptions extends OpenOptions {
  /** L2 tables kept in memory (default 32). */
  l2CacheEntries?: number;
  /** Refcount blocks kept in memory (default 8). */
  refcountCacheEntries?: number;
}

/** Frees pending before metadata is flushed early, to bound memory. */
const MAX_PENDING_FREES = 4096;
/** Longest run of new clusters allocated and written at once. */
const MAX_RUN_CLUSTERS = 256;
/** Upper bound on the snapshot table read at open (QEMU's limit as well). */
const MAX_SNAPSHOT_TABLE = 64 * 1024 * 1024;

/** An L1 entry's L2 table, kept while a loop walks the clusters it maps. */
interface MappedTable {
  l1i: number;
  l2: Uint8Array | undefined;
}

/** A piece of one guest cluster and where its bytes come from. */
interface Piece {
  /** Byte offset inside the guest cluster. */
  at: number;
  length: number;
  kind: "data" | "zero" | "unallocated" | "compressed";
  /** Host offset of the piece's first byte (data, zero-allocated) or of the compressed stream. */
  host: number;
  /** Compressed stream size in bytes. */
  compressedSize: number;
}

/** A qcow2 image opened over a {@link ByteSource}. */
export class Qcow2Image implements DiskImage {
  readonly format = "qcow2";
  readonly blockSize = 512;
  readonly readOnly: boolean;
  readonly clusterSize: number;
  readonly clusterBits: number;
  /** Entries per L2 table. */
  readonly l2Entries: number;
  /** Bytes per L2 entry: 8, or 16 with extended L2 entries. */
  readonly l2EntrySize: number;
  readonly extendedL2: boolean;

  /** @internal Active L1 table, l1_size entries. */
  l1: Uint8Array;
  /** @internal */
  readonly l2Cache: TableCache;
  /** @internal */
  refcounts: Refcounts;
  /** @internal */
  snapshotTable: SnapshotEntry[];
  /** @internal Size of the snapshot table in the file. */
  snapshotTableBytes: number;

  private readonly pendingFrees = new Map<number, number>();
  /** Unfinished requests that change guest bytes `[start, end)`, in issue order. */
  private readonly changes: { start: number; end: number; done: Promise<unknown> }[] = [];
  private l1DirtyFrom = Number.POSITIVE_INFINITY;
  private l1DirtyTo = -1;
  /** Host offset where the next compressed stream may be appended (0: start a new cluster), valid in `epoch`. */
  private compressedTail = { host: 0, epoch: 0 };
  /** The last cluster decompressed, valid in `epoch`. */
  private decompressed?: { host: number; data: Uint8Array; epoch: number };
  private readonly queue = new SerialQueue();
  private dirtyBitSet = false;
  private closed = false;
  private readonly compressor: Compressor;

  private constructor(
    readonly source: ByteSource,
    /** @internal */ readonly header: Qcow2Header,
    private readonly headerRaw: Uint8Array,
    l1: Uint8Array,
    snapshots: { entries: SnapshotEntry[]; bytes: number },
    refTable: number[],
    readOnly: boolean,
    readonly backing: DiskImage | undefined,
    options: Qcow2OpenOptions,
  ) {
    this.readOnly = readOnly;
    this.clusterBits = header.clusterBits;
    this.clusterSize = 2 ** header.clusterBits;
    this.extendedL2 = (header.incompatibleFeatures & INCOMPAT_EXTL2) !== 0n;
    this.l2EntrySize = this.extendedL2 ? 16 : 8;
    this.l2Entries = this.clusterSize / this.l2EntrySize;
    this.l1 = l1;
    this.snapshotTable = snapshots.entries;
    this.snapshotTableBytes = snapshots.bytes;
    this.compressor = options.compressor ?? defaultCompressor;
    this.refcounts = new Refcounts(
      source,
      header.clusterBits,
      header.refcountOrder,
      { tableOffset: header.refcountTableOffset, tableClusters: header.refcountTableClusters },
      refTable,
      options.refcountCacheEntries ?? 8,
      async (layout) => {
        header.refcountTableOffset = layout.tableOffset;
        header.refcountTableClusters = layout.tableClusters;
        await this.writeHeader();
      },
    );
    this.refcounts.onOldTable = (old) =>
      this.scheduleFree(old.tableOffset / this.clusterSize, old.tableClusters);
    this.l2Cache = new TableCache(
      options.l2CacheEntries ?? 32,
      (off) => this.loadTable(off, "L2 table"),
      (off, buf) => source.write(off, buf),
      async () => {
        // Barrier: data and refcount increments are in the file before any L2 table links them.
        await this.refcounts.cache.flush();
        await source.flush();
      },
    );
  }

  /** Opens a qcow2 image; see {@link OpenOptions}. */
  static async open(source: ByteSource, options: Qcow2OpenOptions = {}): Promise<Qcow2Image> {
    for (const key of ["l2CacheEntries", "refcountCacheEntries"] as const) {
      const v = options[key];
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) {
        throw new InvalidArgumentError(`qcow2: ${key} must be a positive integer, not ${v}`);
      }
    }
    const fileSize = await source.size();
    const probe = new Uint8Array(Math.min(fileSize, 512));
    await source.read(0, probe);
    if (probe.length < 72) throw new CorruptDataError("qcow2: file too short for a header");
    const bits = readU32BE(probe, 20);
    const first = new Uint8Array(Math.min(fileSize, bits >= 9 && bits <= 21 ? 2 ** bits : 512));
    await source.read(0, first);
    const header = parseHeader(first, fileSize);
    const readOnly = options.readOnly === true || source.readOnly;
    if (!readOnly && header.incompatibleFeatures & INCOMPAT_CORRUPT) {
      throw new CorruptDataError("qcow2: image is marked corrupt; open it read-only");
    }
    const l1 = new Uint8Array(header.l1Size * 8);
    await source.read(header.l1TableOffset, l1);
    const refTable = await Refcounts.readTable(
      source,
      header.refcountTableOffset,
      header.refcountTableClusters,
      header.clusterBits,
    );
    let snapshots = { entries: [] as SnapshotEntry[], bytes: 0 };
    if (header.nbSnapshots > 0) {
      const len = Math.min(
        fileSize - header.snapshotsOffset,
        MAX_SNAPSHOT_TABLE,
        header.nbSnapshots * 132_000,
      );
      const buf = new Uint8Array(len);
      await source.read(header.snapshotsOffset, buf);
      snapshots = parseSnapshots(buf, header.nbSnapshots, 2 ** header.clusterBits);
    }
    let backing: DiskImage | undefined;
    if (header.backingFile !== undefined && !options.noBacking) {
      if (!options.openBacking) {
        throw new InvalidArgumentError(
          `qcow2: ${source.name} has backing file ${header.backingFile}; pass openBacking or noBacking`,
        );
      }
      backing = await options.openBacking(header.backingFile, header.backingFormat, source.name);
    }
    const img = new Qcow2Image(
      source,
      header,
      first.slice(0, header.headerLength),
      l1,
      snapshots,
      refTable,
      readOnly,
      backing,
      options,
    );
    if (!readOnly) {
      try {
        await img.openForWriting();
      } catch (err) {
        await backing?.close();
        throw err;
      }
    }
    return img;
  }

  get size(): number {
    return this.header.size;
  }

  /** Runs `op` alone, after every earlier request on this image has finished. */
  private locked<T>(op: () => Promise<T>): Promise<T> {
    return this.request(0, Number.POSITIVE_INFINITY, true, () => this.queue.run(op));
  }

  /** Runs `op` alone, after every earlier request on guest bytes `[start, end)` has finished. */
  private ranged<T>(start: number, end: number, mutates: boolean, op: () => Promise<T>): Promise<T> {
    return this.request(start, end, mutates, () => this.queue.run(op));
  }

  /**
   * Starts request `op` on guest bytes `[start, end)` once every earlier
   * unfinished change overlapping them has finished, and records it (when it
   * `mutates`) for later requests to wait on: requests that overlap complete
   * in the order they were issued, even though a write's data goes to the
   * file outside the image lock (see {@link Qcow2Image.write}).
   */
  private request<T>(start: number, end: number, mutates: boolean, op: () => Promise<T>): Promise<T> {
    const before = this.changes.filter((c) => c.start < end && start < c.end).map((c) => c.done);
    const run = before.length ? Promise.allSettled(before).then(op) : op();
    if (mutates) {
      const change = { start, end, done: run };
      this.changes.push(change);
      const drop = () => this.changes.splice(this.changes.indexOf(change), 1);
      run.then(drop, drop);
    }
    return run;
  }

  private async openForWriting(): Promise<void> {
    if (this.header.incompatibleFeatures & INCOMPAT_DIRTY) {
      // Lazy refcounts: the writer that set the bit may have left refcounts stale.
      await checkImage(this, "all");
      this.header.incompatibleFeatures &= ~INCOMPAT_DIRTY;
      await this.writeHeader();
    }
    if (this.header.autoclearFeatures !== 0n) {
      // Spec: a writer that does not maintain the autoclear features clears their bits.
      this.header.autoclearFeatures = 0n;
      await this.writeHeader();
    }
  }

  /** @internal Rewrites the fixed header fields. */
  async writeHeader(): Promise<void> {
    writeHeaderFields(this.header, this.headerRaw);
    await this.source.write(0, this.headerRaw);
  }

  /** @internal Reads one metadata cluster, rejecting tables past the end of the file. */
  async loadTable(offset: number, what: string): Promise<Uint8Array> {
    checkAligned(offset, this.clusterSize, what);
    const buf = new Uint8Array(this.clusterSize);
    if (offset === 0 || (await this.source.read(offset, buf)) !== this.clusterSize) {
      throw new CorruptDataError(`qcow2: ${what} at 0x${offset.toString(16)} is outside the file`);
    }
    return buf;
  }

  // ---- guest reads ----------------------------------------------------------

  private checkRange(offset: number, length: number): void {
    checkRange(this.header.size, offset, length);
  }

  /** The L2 table (or undefined) and entry byte offset for guest cluster `gc`. */
  private async lookup(gc: number): Promise<{ l2?: Uint8Array; at: number }> {
    const { l2 } = await this.mappedTable(Math.floor(gc / this.l2Entries));
    return { l2, at: (gc % this.l2Entries) * this.l2EntrySize };
  }

  /**
   * The L2 table of L1 entry `l1i` (undefined: none); loops over consecutive
   * clusters keep the result and ask again only when `l1i` changes.
   */
  private async mappedTable(l1i: number): Promise<MappedTable> {
    const l2Off = entryOffset(this.l1, l1i * 8);
    return { l1i, l2: l2Off ? await this.l2Cache.get(l2Off) : undefined };
  }

  /** Splits bytes `[at, at + length)` of guest cluster `gc`, mapped by `l2`, by source. */
  private pieces(l2: Uint8Array | undefined, gc: number, at: number, length: number): Piece[] {
    const e = (gc % this.l2Entries) * this.l2EntrySize;
    const piece = (kind: Piece["kind"], pAt: number, pLen: number, host = 0, compressedSize = 0): Piece => ({
      at: pAt,
      length: pLen,
      kind,
      host,
      compressedSize,
    });
    if (!l2) return [piece("unallocated", at, length)];
    const type = clusterType(l2, e);
    if (type === ClusterType.Compressed) {
      const r = compressedRange(l2, e, this.clusterBits);
      return [piece("compressed", at, length, r.offset, r.size)];
    }
    const host = entryOffset(l2, e);
    if (host) checkAligned(host, this.clusterSize, "data cluster");
    if (!this.extendedL2) {
      if (type === ClusterType.Unallocated) return [piece("unallocated", at, length)];
      if (type === ClusterType.Normal) return [piece("data", at, length, host + at)];
      return [piece("zero", at, length, host ? host + at : 0)];
    }
    // Extended L2 (spec: Extended L2 Entries): bits 0-31 allocated, 32-63 reads as zero.
    const zeroBits = readU32BE(l2, e + 8);
    const allocBits = readU32BE(l2, e + 12);
    if (zeroBits & allocBits) throw new CorruptDataError("qcow2: subcluster both allocated and zero");
    if (allocBits && !host) throw new CorruptDataError("qcow2: allocated subclusters without a host cluster");
    const sub = this.clusterSize / 32;
    const out: Piece[] = [];
    for (let p = at; p < at + length; ) {
      const s = Math.floor(p / sub);
      const end = Math.min((s + 1) * sub, at + length);
      const kind: Piece["kind"] =
        allocBits & (1 << s) ? "data" : zeroBits & (1 << s) ? "zero" : "unallocated";
      const last = out[out.length - 1];
      if (last && last.kind === kind) last.length += end - p;
      else out.push(piece(kind, p, end - p, kind === "data" ? host + p : 0));
      p = end;
    }
    return out;
  }

  read(offset: number, dest: Uint8Array): Promise<void> {
    // Reads queued back to back run together; writes, flushes and snapshots wait for them.
    return this.request(offset, offset + dest.length, false, () =>
      this.queue.runShared(() => this.readGuest(offset, dest)),
    );
  }

  /** Reads guest bytes, batching runs that are contiguous in the file into one host read. */
  private async readGuest(offset: number, dest: Uint8Array): Promise<void> {
    this.checkRange(offset, dest.length);
    const cs = this.clusterSize;
    let runHost = 0;
    let runAt = 0;
    let runLen = 0;
    const flushRun = async () => {
      if (runLen) await this.readHost(runHost, dest.subarray(runAt, runAt + runLen));
      runLen = 0;
    };
    let table: MappedTable | undefined;
    for (const { index: gc, start: inC, length: n, pos } of granules(offset, dest.length, cs)) {
      const l1i = Math.floor(gc / this.l2Entries);
      if (table?.l1i !== l1i) table = await this.mappedTable(l1i);
      for (const p of this.pieces(table.l2, gc, inC, n)) {
        const d = pos + p.at - inC;
        if (p.kind === "data") {
          if (runLen && runHost + runLen === p.host && runAt + runLen === d) {
            runLen += p.length;
          } else {
            await flushRun();
            runHost = p.host;
            runAt = d;
            runLen = p.length;
          }
          continue;
        }
        await flushRun();
        const out = dest.subarray(d, d + p.length);
        if (p.kind === "zero") out.fill(0);
        else if (p.kind === "unallocated") await this.readBacking(gc * cs + p.at, out);
        else out.set((await this.decompress(p.host, p.compressedSize)).subarray(p.at, p.at + p.length));
      }
    }
    await flushRun();
  }

  private async readHost(host: number, out: Uint8Array): Promise<void> {
    const got = await this.source.read(host, out);
    out.fill(0, got); // past the end of the file reads as zeroes
  }

  private async readBacking(offset: number, out: Uint8Array): Promise<void> {
    const avail = this.backing ? Math.max(0, Math.min(out.length, this.backing.size - offset)) : 0;
    if (avail > 0) await this.backing?.read(offset, out.subarray(0, avail));
    out.fill(0, avail);
  }

  private async decompress(host: number, size: number): Promise<Uint8Array> {
    const d = this.decompressed;
    if (d?.host === host && d.epoch === this.refcounts.freeEpoch) return d.data;
    const buf = new Uint8Array(size);
    const got = await this.source.read(host, buf);
    const data = decompressCluster(this.header.compressionType, buf.subarray(0, got), this.clusterSize);
    this.decompressed = { host, data, epoch: this.refcounts.freeEpoch };
    return data;
  }

  // ---- guest writes ---------------------------------------------------------

  private async beginWrite(offset: number, length: number): Promise<void> {
    if (this.closed) throw new InvalidArgumentError("qcow2: image is closed");
    if (this.readOnly) throw new ReadOnlyError(`qcow2: ${this.source.name} is open read-only`);
    if (this.extendedL2)
      throw new UnsupportedError("qcow2: writing images with extended L2 entries is not supported");
    this.checkRange(offset, length);
    if (!this.dirtyBitSet && this.header.compatibleFeatures & COMPAT_LAZY_REFCOUNTS) {
      this.header.incompatibleFeatures |= INCOMPAT_DIRTY;
      await this.writeHeader();
      await this.source.flush();
      this.dirtyBitSet = true;
    }
  }

  /**
   * Whole clusters that need new host clusters are gathered into runs, each
   * one allocation and one data write. The data of those runs is written
   * outside the image lock, so several writes of new data proceed at once
   * (as QEMU's do): the clusters are counted under the lock, written, and
   * linked under the lock again. Until linked they are invisible, so a
   * concurrent read or overlapping write sees the old contents, as it may.
   * Everything else (rewrites in place, partial clusters) happens under the
   * first lock.
   */
  write(offset: number, src: Uint8Array): Promise<void> {
    return this.request(offset, offset + src.length, true, () => this.writeOp(offset, src));
  }

  private async writeOp(offset: number, src: Uint8Array): Promise<void> {
    const cs = this.clusterSize;
    const runs = await this.queue.run(async () => {
      await this.beginWrite(offset, src.length);
      const out: { host: number; gcs: number[]; pos: number }[] = [];
      let run: { gc: number; pos: number }[] = [];
      const endRun = async () => {
        if (!run.length) return;
        const host = await this.refcounts.alloc(run.length);
        out.push({ host, gcs: run.map((r) => r.gc), pos: run[0].pos });
        run = [];
      };
      // The writable L2 table of the previous cluster serves every cluster it maps.
      let table: { l1i: number; l2: Uint8Array } | undefined;
      await this.eachCluster(offset, src.length, async (gc, inC, n, pos) => {
        if (n === cs) {
          const l1i = Math.floor(gc / this.l2Entries);
          if (table?.l1i !== l1i) table = { l1i, l2: (await this.l2ForWrite(gc)).l2 };
          const { l2 } = table;
          const at = (gc % this.l2Entries) * this.l2EntrySize;
          if (!(clusterType(l2, at) === ClusterType.Normal && entryCopied(l2, at))) {
            run.push({ gc, pos });
            if (run.length >= MAX_RUN_CLUSTERS) await endRun();
            return;
          }
        }
        await endRun();
        await this.writeCluster(gc, inC, src.subarray(pos, pos + n));
      });
      await endRun();
      return out;
    });
    if (!runs.length) return;
    // A failed data write leaves its clusters counted but unlinked: leaked, never corrupt.
    await Promise.all(
      runs.map((r) => this.source.write(r.host, src.subarray(r.pos, r.pos + r.gcs.length * cs))),
    );
    await this.queue.run(async () => {
      if (this.closed) throw new InvalidArgumentError("qcow2: image is closed");
      // Entries are set table by table; each table is marked dirty once.
      let table: { l1i: number; l2: Uint8Array; l2Off: number } | undefined;
      for (const r of runs) {
        for (const [i, gc] of r.gcs.entries()) {
          const l1i = Math.floor(gc / this.l2Entries);
          if (table?.l1i !== l1i) {
            if (table) await this.l2Cache.markDirty(table.l2Off, table.l2);
            const w = await this.l2ForWrite(gc);
            table = { l1i, l2: w.l2, l2Off: w.l2Off };
          }
          const at = (gc % this.l2Entries) * this.l2EntrySize;
          this.release(table.l2, at);
          setEntry(table.l2, at, r.host + i * cs, true);
        }
      }
      if (table) await this.l2Cache.markDirty(table.l2Off, table.l2);
    });
  }

  private async eachCluster(
    offset: number,
    length: number,
    fn: (gc: number, inC: number, n: number, pos: number) => Promise<void>,
  ): Promise<void> {
    for (const p of granules(offset, length, this.clusterSize)) {
      if (this.pendingFrees.size > MAX_PENDING_FREES) await this.flushMetadata();
      await fn(p.index, p.start, p.length, p.pos);
    }
  }

  /** Guest cluster bytes of a whole cluster (clipped at the end of the disk). */
  private async readCluster(gc: number): Promise<Uint8Array> {
    const buf = new Uint8Array(this.clusterSize);
    const start = gc * this.clusterSize;
    await this.readGuest(start, buf.subarray(0, Math.min(this.clusterSize, this.header.size - start)));
    return buf;
  }

  private async writeCluster(gc: number, inC: number, data: Uint8Array): Promise<void> {
    const { l2, l2Off, at } = await this.l2ForWrite(gc);
    if (clusterType(l2, at) === ClusterType.Normal && entryCopied(l2, at)) {
      await this.source.write(entryOffset(l2, at) + inC, data);
      return;
    }
    const host = await this.refcounts.alloc(1);
    if (data.length === this.clusterSize) {
      await this.source.write(host, data);
    } else {
      const buf = await this.readCluster(gc);
      buf.set(data, inC);
      await this.source.write(host, buf);
    }
    await this.relink(l2, l2Off, at, () => setEntry(l2, at, host, true));
  }

  /** Replaces an L2 entry: releases what it referenced (after the new entry is written) and applies `update`. */
  private async relink(l2: Uint8Array, l2Off: number, at: number, update: () => void): Promise<void> {
    this.release(l2, at);
    update();
    await this.l2Cache.markDirty(l2Off, l2);
  }

  /** Schedules the release of the host clusters the L2 entry at `at` references, before it is replaced. */
  private release(l2: Uint8Array, at: number): void {
    const type = clusterType(l2, at);
    if (type === ClusterType.Normal || type === ClusterType.ZeroAlloc) {
      this.scheduleFree(entryOffset(l2, at) / this.clusterSize, 1);
    } else if (type === ClusterType.Compressed) {
      const [first, last] = compressedClusters(l2, at, this.clusterBits);
      this.scheduleFree(first, last - first + 1);
    }
  }

  /** @internal Drops one reference to `count` clusters from `cluster` once the tables that used them are written. */
  scheduleFree(cluster: number, count: number): void {
    for (let c = cluster; c < cluster + count; c++)
      this.pendingFrees.set(c, (this.pendingFrees.get(c) ?? 0) + 1);
  }

  /** Returns a writable L2 table for guest cluster `gc`, allocating or copying it as needed. */
  private async l2ForWrite(gc: number): Promise<{ l2: Uint8Array; l2Off: number; at: number }> {
    const l1i = Math.floor(gc / this.l2Entries);
    const at = (gc % this.l2Entries) * this.l2EntrySize;
    const o = l1i * 8;
    const off = entryOffset(this.l1, o);
    if (off && entryCopied(this.l1, o)) return { l2: await this.l2Cache.get(off), l2Off: off, at };
    let l2: Uint8Array;
    if (off) {
      const old = await this.l2Cache.get(off);
      if ((await this.refcounts.get(off / this.clusterSize)) === 1) {
        setCopied(this.l1, o, true);
        this.markL1Dirty(l1i);
        return { l2: old, l2Off: off, at };
      }
      // Shared with a snapshot: copy on write (spec: QCOW_OFLAG_COPIED).
      l2 = old.slice();
      this.scheduleFree(off / this.clusterSize, 1);
    } else {
      l2 = new Uint8Array(this.clusterSize);
    }
    const l2Off = await this.refcounts.alloc(1);
    await this.l2Cache.markDirty(l2Off, l2);
    setEntry(this.l1, o, l2Off, true);
    this.markL1Dirty(l1i);
    return { l2, l2Off, at };
  }

  /** @internal */
  markL1Dirty(l1i: number): void {
    this.l1DirtyFrom = Math.min(this.l1DirtyFrom, l1i);
    this.l1DirtyTo = Math.max(this.l1DirtyTo, l1i);
  }

  writeZeroes(offset: number, length: number, _options?: WriteZeroesOptions): Promise<void> {
    return this.ranged(offset, offset + length, true, async () => {
      await this.beginWrite(offset, length);
      await this.zeroRange(offset, length);
    });
  }

  /** Makes a range read as zeroes: zero flags for whole clusters (v3), zero data otherwise. */
  private async zeroRange(offset: number, length: number): Promise<void> {
    await this.eachCluster(offset, length, async (gc, inC, n) => {
      const { l2, at } = await this.lookup(gc);
      const type = l2 ? clusterType(l2, at) : ClusterType.Unallocated;
      if (type === ClusterType.ZeroPlain || (type === ClusterType.Unallocated && !this.backing)) return;
      const whole = inC === 0 && (n === this.clusterSize || gc * this.clusterSize + n === this.header.size);
      if (whole && this.header.version === 3) {
        const w = await this.l2ForWrite(gc);
        await this.relink(w.l2, w.l2Off, w.at, () => setEntry(w.l2, w.at, 0, false, true));
      } else {
        await this.writeCluster(gc, inC, new Uint8Array(n));
      }
    });
  }

  discard(offset: number, length: number): Promise<void> {
    return this.ranged(offset, offset + length, true, async () => {
      await this.beginWrite(offset, length);
      const cs = this.clusterSize;
      const start = Math.ceil(offset / cs) * cs;
      const end =
        offset + length === this.header.size ? offset + length : Math.floor((offset + length) / cs) * cs;
      if (end <= start) return;
      // As QEMU does: over a backing file, v3 marks discarded clusters zero instead of exposing backing data.
      const zero = this.header.version === 3 && this.backing !== undefined;
      await this.eachCluster(start, end - start, async (gc) => {
        const { l2, at } = await this.lookup(gc);
        const type = l2 ? clusterType(l2, at) : ClusterType.Unallocated;
        if (type === (zero ? ClusterType.ZeroPlain : ClusterType.Unallocated)) return;
        const w = await this.l2ForWrite(gc);
        await this.relink(w.l2, w.l2Off, w.at, () => setEntry(w.l2, w.at, 0, false, zero));
      });
    });
  }

  /**
   * Writes one whole guest cluster compressed with the image's
   * compression_type (deflate or zstd), as `qemu-img convert -c` does.
   * Compression starts at once, outside the image lock, so several calls can
   * compress at the same time (on other threads with a host compressor);
   * placement then happens under the lock in call order. Data that does not
   * shrink is stored uncompressed. `data` is one cluster, or the rest of the
   * disk for the last cluster, and must stay unchanged until the call settles.
   */
  async writeCompressed(offset: number, data: Uint8Array): Promise<void> {
    const cs = this.clusterSize;
    this.checkRange(offset, data.length);
    if (offset % cs !== 0 || (data.length !== cs && offset + data.length !== this.header.size)) {
      throw new InvalidArgumentError("qcow2: compressed writes cover exactly one cluster");
    }
    const algorithm = this.header.compressionType === COMPRESSION_ZSTD ? "zstd" : "deflate";
    const compressor = this.compressor.algorithms.includes(algorithm) ? this.compressor : defaultCompressor;
    const full = new Uint8Array(cs);
    full.set(data);
    const packed = compressor.compress(algorithm, full);
    packed.catch(() => {}); // awaited under the lock below; until then a failure must not count as unhandled
    const gc = offset / cs;
    // As in `write`: placed under the lock, written outside it (several streams at once), linked under it.
    return this.request(offset, offset + data.length, true, async () => {
      const placed = await this.queue.run(async () => {
        await this.beginWrite(offset, data.length);
        const bytes = await packed;
        if (bytes.length >= cs) {
          await this.writeCluster(gc, 0, data);
          return undefined;
        }
        return { host: await this.placeCompressed(bytes.length), bytes };
      });
      if (!placed) return;
      const { host, bytes } = placed;
      await this.source.write(host, bytes);
      await this.queue.run(async () => {
        if (this.closed) throw new InvalidArgumentError("qcow2: image is closed");
        const w = await this.l2ForWrite(gc);
        await this.relink(w.l2, w.l2Off, w.at, () =>
          setCompressedEntry(w.l2, w.at, host, bytes.length, this.clusterBits),
        );
      });
    });
  }

  /**
   * Chooses the host bytes for a compressed stream of `length` (< cluster
   * size) bytes and counts the clusters it touches (spec: "Compressed
   * Clusters Descriptor" — a stream may cross host cluster boundaries, and
   * each host cluster holds one reference per compressed cluster touching
   * it). Streams are packed byte-contiguously, as QEMU packs them: after the
   * previous stream, in its host cluster, continuing into the next cluster
   * when the allocator hands out exactly that one; otherwise at a fresh
   * cluster.
   */
  private async placeCompressed(length: number): Promise<number> {
    const cs = this.clusterSize;
    const rc = this.refcounts;
    // A freed tail cluster may have been reused since: only append within the same free epoch.
    let tail = this.compressedTail.epoch === rc.freeEpoch ? this.compressedTail.host : 0;
    const tailCluster = Math.floor(tail / cs);
    if (tail && (await rc.get(tailCluster)) >= rc.maxRefcount) tail = 0; // narrow refcounts (refcount_bits=1)
    let host: number;
    if (tail && (tail % cs) + length <= cs) {
      host = tail;
    } else {
      const fresh = await rc.alloc(1); // a stream is shorter than a cluster: it needs at most one more
      host = tail && fresh === (tailCluster + 1) * cs ? tail : fresh;
    }
    if (host === tail) await rc.update(tailCluster, 1);
    const end = host + length;
    this.compressedTail = { host: end % cs === 0 ? 0 : end, epoch: rc.freeEpoch };
    return host;
  }

  // ---- flush and close ------------------------------------------------------

  /** @internal Writes metadata in crash-safe order, then applies the deferred frees. */
  async flushMetadata(): Promise<void> {
    await this.refcounts.cache.flush();
    await this.l2Cache.flush();
    if (this.l1DirtyTo >= 0) {
      await this.source.flush(); // barrier: L2 tables before the L1 entries that link them
      const from = this.l1DirtyFrom * 8;
      const to = (this.l1DirtyTo + 1) * 8;
      await this.source.write(this.header.l1TableOffset + from, this.l1.subarray(from, to));
      this.l1DirtyFrom = Number.POSITIVE_INFINITY;
      this.l1DirtyTo = -1;
    }
    if (this.pendingFrees.size > 0) {
      await this.source.flush(); // barrier: tables that dropped references before the refcounts drop
      const frees = [...this.pendingFrees];
      this.pendingFrees.clear();
      for (const [c, n] of frees) {
        if ((await this.refcounts.update(c, -n)) === 0) this.l2Cache.drop(c * this.clusterSize);
      }
      await this.refcounts.cache.flush();
    }
  }

  flush(): Promise<void> {
    return this.locked(async () => {
      if (this.readOnly) return;
      await this.flushMetadata();
      await this.source.flush();
    });
  }

  close(): Promise<void> {
    return this.locked(async () => {
      if (this.closed) return;
      if (!this.readOnly) {
        await this.flushMetadata();
        if (this.dirtyBitSet) {
          await this.source.flush();
          this.header.incompatibleFeatures &= ~INCOMPAT_DIRTY;
          await this.writeHeader();
          this.dirtyBitSet = false;
        }
        await this.source.flush();
      }
      this.closed = true;
      await this.source.close();
      await this.backing?.close();
    });
  }

  /**
   * Rewrites the backing file reference only, like `qemu-img rebase -u`
   * (`undefined` removes it). The backing image already open stays in use
   * until the image is reopened.
   */
  setBackingFile(name: string | undefined, format?: string): Promise<void> {
    return this.locked(async () => {
      if (this.readOnly) throw new ReadOnlyError(`qcow2: ${this.source.name} is open read-only`);
      const h = this.header;
      const saved = { ...h };
      h.backingFile = name;
      h.backingFormat = name === undefined ? undefined : format;
      let cluster: Uint8Array;
      try {
        cluster = serializeHeader(h, this.clusterSize, this.headerRaw);
      } catch (err) {
        Object.assign(h, saved);
        throw err;
      }
      await this.flushMetadata();
      await this.source.write(0, cluster);
      this.headerRaw.set(cluster.subarray(0, this.headerRaw.length));
      await this.source.flush();
    });
  }

  // ---- resize ---------------------------------------------------------------

  resize(size: number, options: { shrink?: boolean } = {}): Promise<void> {
    return this.locked(async () => {
      if (this.readOnly) throw new ReadOnlyError(`qcow2: ${this.source.name} is open read-only`);
      if (!Number.isSafeInteger(size) || size < 0 || size % 512 !== 0) {
        throw new InvalidArgumentError(`qcow2: new size ${size} is not a multiple of 512`);
      }
      if (this.snapshotTable.length > 0)
        throw new UnsupportedError("qcow2: cannot resize an image with snapshots");
      if (this.extendedL2)
        throw new UnsupportedError("qcow2: writing images with extended L2 entries is not supported");
      const old = this.header.size;
      if (size < old && !options.shrink) {
        throw new InvalidArgumentError(
          "qcow2: shrinking needs the shrink option (data past the new end is lost)",
        );
      }
      const cs = this.clusterSize;
      const neededL1 = Math.ceil(size / cs / this.l2Entries);
      if (neededL1 > this.header.l1Size) await this.growL1(neededL1);
      if (size < old) {
        // Drop every cluster wholly past the new end, then the L2 tables left empty.
        await this.discardInternal(Math.ceil(size / cs), Math.ceil(old / cs));
        for (let l1i = neededL1; l1i < this.header.l1Size; l1i++) {
          const off = entryOffset(this.l1, l1i * 8);
          if (!off) continue;
          setEntry(this.l1, l1i * 8, 0, false);
          this.markL1Dirty(l1i);
          this.scheduleFree(off / cs, 1);
        }
      }
      await this.flushMetadata();
      this.header.size = size;
      await this.writeHeader();
      if (size > old) {
        // New space must read as zeroes: the old last cluster's tail and what a longer backing file holds there.
        const end = Math.min(size, Math.max(Math.ceil(old / cs) * cs, this.backing?.size ?? 0));
        if (end > old) await this.zeroRange(old, end - old);
        await this.flushMetadata();
      }
      await this.source.flush();
    });
  }

  /** Unmaps guest clusters `[from, to)` (resize shrink). */
  private async discardInternal(from: number, to: number): Promise<void> {
    for (let gc = from; gc < to; gc++) {
      const { l2, at } = await this.lookup(gc);
      if (!l2 || clusterType(l2, at) === ClusterType.Unallocated) continue;
      const w = await this.l2ForWrite(gc);
      await this.relink(w.l2, w.l2Off, w.at, () => setEntry(w.l2, w.at, 0, false));
    }
  }

  /** @internal Moves the active L1 table to a larger copy (written before the header points at it). */
  async growL1(entries: number): Promise<void> {
    if (entries * 8 > MAX_L1_BYTES)
      throw new UnsupportedError(`qcow2: L1 table of ${entries} entries is too large`);
    await this.flushMetadata();
    const cs = this.clusterSize;
    const clusters = Math.ceil((entries * 8) / cs);
    const l1 = new Uint8Array(clusters * cs);
    l1.set(this.l1);
    const off = await this.refcounts.alloc(clusters);
    await this.refcounts.cache.flush();
    await this.source.write(off, l1);
    await this.source.flush(); // barrier: the new L1 table before the header points at it
    const oldOff = this.header.l1TableOffset;
    const oldClusters = Math.ceil((this.header.l1Size * 8) / cs);
    this.header.l1TableOffset = off;
    this.header.l1Size = entries;
    await this.writeHeader();
    this.l1 = l1.subarray(0, entries * 8);
    if (oldClusters > 0) this.scheduleFree(oldOff / cs, oldClusters);
  }

  // ---- snapshots (see snapshot.ts) -------------------------------------------

  /** Internal snapshots, as `qemu-img snapshot -l` lists them. */
  listSnapshots(): Promise<SnapshotInfo[]> {
    return this.locked(async () => snapshotInfos(this.snapshotTable));
  }

  private checkSnapshotWritable(): void {
    if (this.readOnly) throw new ReadOnlyError(`qcow2: ${this.source.name} is open read-only`);
    if (this.extendedL2)
      throw new UnsupportedError("qcow2: writing images with extended L2 entries is not supported");
  }

  /**
   * Creates an internal snapshot of the current disk contents (like
   * `qemu-img snapshot -c`). `dateSec`/`dateNsec` default to 0 because the
   * library reads no clock; pass the host time to record one.
   */
  createSnapshot(name: string, options: { dateSec?: number; dateNsec?: number } = {}): Promise<void> {
    return this.locked(async () => {
      this.checkSnapshotWritable();
      await createSnapshot(this, name, options);
    });
  }

  /** Reverts the disk to a snapshot (like `qemu-img snapshot -a`). */
  applySnapshot(nameOrId: string): Promise<void> {
    return this.locked(async () => {
      this.checkSnapshotWritable();
      await applySnapshot(this, findSnapshot(this, nameOrId));
    });
  }

  /** Deletes a snapshot and releases the clusters only it used (like `qemu-img snapshot -d`). */
  deleteSnapshot(nameOrId: string): Promise<void> {
    return this.locked(async () => {
      this.checkSnapshotWritable();
      await deleteSnapshot(this, findSnapshot(this, nameOrId));
    });
  }

  // ---- info, map, check -----------------------------------------------------

  info(): Promise<ImageInfo> {
    return this.locked(async () => {
      const h = this.header;
      const data: Record<string, unknown> = {
        compat: h.version === 3 ? "1.1" : "0.10",
        "compression-type": h.compressionType === COMPRESSION_ZSTD ? "zstd" : "zlib",
      };
      if (h.version === 3) data["lazy-refcounts"] = (h.compatibleFeatures & COMPAT_LAZY_REFCOUNTS) !== 0n;
      data["refcount-bits"] = 2 ** h.refcountOrder;
      if (h.version === 3) {
        data.corrupt = (h.incompatibleFeatures & INCOMPAT_CORRUPT) !== 0n;
        data["extended-l2"] = this.extendedL2;
      }
      const info: ImageInfo = {
        filename: this.source.name,
        format: "qcow2",
        "virtual-size": h.size,
        "cluster-size": this.clusterSize,
        "dirty-flag": (h.incompatibleFeatures & INCOMPAT_DIRTY) !== 0n,
        "format-specific": { type: "qcow2", data },
      };
      if (h.backingFile !== undefined) {
        info["backing-filename"] = h.backingFile;
        if (this.backing) info["full-backing-filename"] = this.backing.source.name;
        if (h.backingFormat !== undefined) info["backing-filename-format"] = h.backingFormat;
      }
      if (this.snapshotTable.length > 0) info.snapshots = snapshotInfos(this.snapshotTable);
      return info;
    });
  }

  blockStatus(offset: number, length: number): Promise<MapExtent[]> {
    return this.ranged(offset, offset + length, false, async () => {
      this.checkRange(offset, length);
      const out: MapExtent[] = [];
      const cs = this.clusterSize;
      const push = (e: MapExtent) => {
        const last = out[out.length - 1];
        if (
          last &&
          last.start + last.length === e.start &&
          last.data === e.data &&
          last.zero === e.zero &&
          last.present === e.present &&
          last.compressed === e.compressed &&
          (last.offset === undefined) === (e.offset === undefined) &&
          (e.offset === undefined || (last.offset ?? 0) + last.length === e.offset)
        ) {
          last.length += e.length;
        } else {
          out.push(e);
        }
      };
      const end = offset + length;
      const l1Span = cs * this.l2Entries;
      let table: MappedTable | undefined;
      for (let pos = offset; pos < end; ) {
        const gc = Math.floor(pos / cs);
        const l1i = Math.floor(gc / this.l2Entries);
        if (!entryOffset(this.l1, l1i * 8)) {
          // No L2 table: the whole range it would map is unallocated (one step, not one per cluster).
          const stop = Math.min(end, (l1i + 1) * l1Span);
          push({ start: pos, length: stop - pos, depth: 0, data: false, zero: false, present: false });
          pos = stop;
          continue;
        }
        const inC = pos - gc * cs;
        const n = Math.min(cs - inC, end - pos);
        if (table?.l1i !== l1i) table = await this.mappedTable(l1i);
        for (const p of this.pieces(table.l2, gc, inC, n)) {
          const e: MapExtent = {
            start: gc * cs + p.at,
            length: p.length,
            depth: 0,
            data: p.kind === "data" || p.kind === "compressed",
            zero: p.kind === "zero",
            present: p.kind !== "unallocated",
          };
          if (p.kind === "compressed") e.compressed = true;
          if ((p.kind === "data" || p.kind === "zero") && p.host) e.offset = p.host;
          push(e);
        }
        pos += n;
      }
      return out;
    });
  }

  /**
   * Checks refcounts and QCOW_OFLAG_COPIED flags against the metadata, like
   * `qemu-img check`; `repair` fixes leaks only or everything.
   */
  check(repair?: "leaks" | "all"): Promise<CheckResult> {
    return this.locked(async () => {
      if (repair && this.readOnly) throw new ReadOnlyError(`qcow2: ${this.source.name} is open read-only`);
      if (!this.readOnly) await this.flushMetadata();
      return checkImage(this, repair);
    });
  }
}
