/**
 * Hosted sparse extents (VMware Virtual Disk Format 5.0 technical note,
 * "Hosted Sparse Extents" and "Stream-Optimized Compressed Sparse Extents"):
 * the SparseExtentHeader, a grain directory of grain tables (plus the
 * redundant copy), grains stored in place, or deflate-compressed behind grain
 * markers with the grain directory found in the footer (GD_AT_END) when the
 * extent is stream-optimized.
 *
 * Writes: uncompressed extents write allocated grains in place and append new
 * grains, updating the grain table and its redundant copy; with the
 * zeroed-grain flag, all-zero grains become zeroed-grain entries. Compressed extents
 * append every written grain (read, merge and recompress when it existed) and
 * keep grain tables in memory; flush writes them, the grain directory, the
 * footer and the end-of-stream marker after the last grain (the version-3
 * footer layout), which the next append overwrites.
 * Deviation: grain tables missing from an uncompressed extent (grain directory
 * entry 0) are not allocated on write (UnsupportedError); VMware and qemu
 * preallocate them. Grains of compressed extents that are rewritten leave
 * their old copy behind as garbage.
 */
import {
  CorruptDataError,
  readSafeU64LE,
  readU16LE,
  readU32LE,
  UnsupportedError,
  writeU16LE,
  writeU32LE,
  writeU64LE,
} from "@backplane/core";
import type { ByteSource, MapExtent } from "@backplane/disk";
import { granules, isZero, mergeExtents, readExact } from "@backplane/disk";
import { unzlibSync } from "fflate";

export const SPARSE_MAGICNUMBER = 0x564d444b; // "KDMV"
export const FLAG_VALID_NEWLINE_DETECTION = 1 << 0;
export const FLAG_REDUNDANT_GRAIN_TABLE = 1 << 1;
export const FLAG_ZEROED_GRAIN_GTE = 1 << 2;
export const FLAG_COMPRESSED_GRAINS = 1 << 16;
export const FLAG_MARKERS = 1 << 17;
export const COMPRESSION_DEFLATE = 1;
/** gdOffset of a stream-optimized header whose grain directory is described by the footer. */
export const GD_AT_END = -1;
export const MARKER_EOS = 0;
export const MARKER_GT = 1;
export const MARKER_GD = 2;
export const MARKER_FOOTER = 3;

const SECTOR = 512;
/** Grain-table entry of a grain that reads as zeroes (with FLAG_ZEROED_GRAIN_GTE). */
const GTE_ZEROED = 1;
const MAX_GRAIN_SECTORS = 4096;
const MAX_GTES_PER_GT = 4096;
/** Grain tables kept in the read cache (at most 16 KiB each). */
const GT_CACHE_ENTRIES = 1024;
/** Compressed extents hold every grain table in memory while writing; refuse beyond this. */
const MAX_HELD_TABLE_BYTES = 256 << 20;

/** SparseExtentHeader; offsets and sizes in sectors. */
export interface SparseExtentHeader {
  version: number;
  flags: number;
  capacity: number;
  grainSize: number;
  descriptorOffset: number;
  descriptorSize: number;
  numGTEsPerGT: number;
  rgdOffset: number;
  gdOffset: number;
  overHead: number;
  uncleanShutdown: number;
  compressAlgorithm: number;
}

function u64(b: Uint8Array, o: number, what: string): number {
  if (readU32LE(b, o) === 0xffffffff && readU32LE(b, o + 4) === 0xffffffff) return -1;
  try {
    return readSafeU64LE(b, o);
  } catch {
    throw new CorruptDataError(`VMDK sparse header ${what} is out of range`);
  }
}

export function parseSparseHeader(b: Uint8Array): SparseExtentHeader {
  if (readU32LE(b, 0) !== SPARSE_MAGICNUMBER)
    throw new CorruptDataError("not a VMDK sparse extent (no KDMV magic)");
  const h: SparseExtentHeader = {
    version: readU32LE(b, 4),
    flags: readU32LE(b, 8),
    capacity: u64(b, 12, "capacity"),
    grainSize: u64(b, 20, "grainSize"),
    descriptorOffset: u64(b, 28, "descriptorOffset"),
    descriptorSize: u64(b, 36, "descriptorSize"),
    numGTEsPerGT: readU32LE(b, 44),
    rgdOffset: u64(b, 48, "rgdOffset"),
    gdOffset: u64(b, 56, "gdOffset"),
    overHead: u64(b, 64, "overHead"),
    uncleanShutdown: b[72],
    compressAlgorithm: readU16LE(b, 77),
  };
  if (h.version < 1 || h.version > 3)
    throw new UnsupportedError(`VMDK sparse extent version ${h.version} is not supported`);
  if (
    h.flags & FLAG_VALID_NEWLINE_DETECTION &&
    (b[73] !== 0x0a || b[74] !== 0x20 || b[75] !== 0x0d || b[76] !== 0x0a)
  ) {
    throw new CorruptDataError("VMDK newline-detection characters are damaged (transferred in text mode?)");
  }
  return h;
}

export function encodeSparseHeader(h: SparseExtentHeader): Uint8Array {
  const b = new Uint8Array(SECTOR);
  const w64 = (o: number, v: number) => writeU64LE(b, o, v < 0 ? 0xffffffffffffffffn : BigInt(v));
  writeU32LE(b, 0, SPARSE_MAGICNUMBER);
  writeU32LE(b, 4, h.version);
  writeU32LE(b, 8, h.flags);
  w64(12, h.capacity);
  w64(20, h.grainSize);
  w64(28, h.descriptorOffset);
  w64(36, h.descriptorSize);
  writeU32LE(b, 44, h.numGTEsPerGT);
  w64(48, h.rgdOffset);
  w64(56, h.gdOffset);
  w64(64, h.overHead);
  b[72] = h.uncleanShutdown;
  b.set([0x0a, 0x20, 0x0d, 0x0a], 73);
  writeU16LE(b, 77, h.compressAlgorithm);
  return b;
}

/** A metadata marker sector: numSectors, size 0, type. */
function metadataMarker(numSectors: number, type: number): Uint8Array {
  const m = new Uint8Array(SECTOR);
  writeU64LE(m, 0, BigInt(numSectors));
  writeU32LE(m, 12, type);
  return m;
}

/**
 * Deflates in the zlib format (RFC 1950) with the platform's CompressionStream
 * (native zlib in Node and browsers; several times faster than deflating in
 * JavaScript). Inflating stays with fflate, whose output size can be bounded.
 */
async function zlibDeflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Reads the background of a range of the extent (the parent's data, or zeroes). */
export type BackgroundReader = (offset: number, dest: Uint8Array) => Promise<void>;

export class SparseExtent {
  readonly source: ByteSource;
  readonly header: SparseExtentHeader;
  readonly readOnly: boolean;
  readonly grainBytes: number;
  readonly compressed: boolean;
  private readonly gd: Uint32Array;
  private readonly rgd: Uint32Array | undefined;
  private readonly gts = new Map<number, Uint32Array>();
  /** Sector where the next grain goes (computed on first allocation). */
  private nextSector = -1;
  /** Compressed extents being written keep every grain table in `gts`. */
  private holdTables = false;
  /** Compressed extents: grain tables changed since the last flush. */
  private metadataDirty = false;
  private cachedGrain: { sector: number; data: Uint8Array } | undefined;
  /** The header at offset 0 defers to the footer (GD_AT_END), as in version-3 streams. */
  private footerLayout: boolean;

  private constructor(
    source: ByteSource,
    header: SparseExtentHeader,
    gd: Uint32Array,
    rgd: Uint32Array | undefined,
    readOnly: boolean,
    footerLayout: boolean,
  ) {
    this.source = source;
    this.footerLayout = footerLayout;
    this.header = header;
    this.gd = gd;
    this.rgd = rgd;
    this.readOnly = readOnly;
    this.grainBytes = header.grainSize * SECTOR;
    this.compressed = (header.flags & FLAG_COMPRESSED_GRAINS) !== 0;
  }

  get size(): number {
    return this.header.capacity * SECTOR;
  }

  /** Opens the extent in `source`; `header` is the one at offset 0 (already parsed by the caller). */
  static async open(source: ByteSource, readOnly: boolean): Promise<SparseExtent> {
    const fileSize = await source.size();
    let header = parseSparseHeader(await readExact(source, 0, SECTOR, "VMDK sparse header"));
    const footerLayout = header.gdOffset === GD_AT_END;
    if (footerLayout) {
      // Stream-optimized, version 3: footer marker, footer, end-of-stream marker end the file.
      if (fileSize < 3 * SECTOR) throw new CorruptDataError(`${source.name}: VMDK stream has no footer`);
      const tail = await readExact(source, fileSize - 3 * SECTOR, 3 * SECTOR, "VMDK footer");
      if (readU32LE(tail, 12) !== MARKER_FOOTER)
        throw new CorruptDataError(`${source.name}: VMDK footer marker missing`);
      header = parseSparseHeader(tail.subarray(SECTOR, 2 * SECTOR));
      if (header.gdOffset === GD_AT_END)
        throw new CorruptDataError(`${source.name}: VMDK footer has no grain directory`);
    }
    const { grainSize, numGTEsPerGT, capacity } = header;
    if (grainSize < 1 || grainSize > MAX_GRAIN_SECTORS || (grainSize & (grainSize - 1)) !== 0) {
      throw new CorruptDataError(`${source.name}: VMDK grain size ${grainSize} sectors is invalid`);
    }
    if (numGTEsPerGT < 1 || numGTEsPerGT > MAX_GTES_PER_GT) {
      throw new CorruptDataError(`${source.name}: VMDK has ${numGTEsPerGT} entries per grain table`);
    }
    if (!Number.isSafeInteger(capacity * SECTOR))
      throw new CorruptDataError(`${source.name}: VMDK capacity is absurd`);
    if (header.flags & FLAG_COMPRESSED_GRAINS && header.compressAlgorithm !== COMPRESSION_DEFLATE) {
      throw new UnsupportedError(
        `${source.name}: VMDK compression algorithm ${header.compressAlgorithm} is not supported`,
      );
    }
    const numGDEs = Math.ceil(capacity / (grainSize * numGTEsPerGT));
    const loadDirectory = async (sector: number, what: string): Promise<Uint32Array> => {
      if (sector < 0 || sector * SECTOR + numGDEs * 4 > fileSize) {
        throw new CorruptDataError(`${source.name}: VMDK ${what} (${numGDEs} entries) is outside the file`);
      }
      const raw = await readExact(source, sector * SECTOR, numGDEs * 4, what);
      const dir = new Uint32Array(numGDEs);
      for (let i = 0; i < numGDEs; i++) dir[i] = readU32LE(raw, i * 4);
      return dir;
    };
    const gd = await loadDirectory(header.gdOffset, "grain directory");
    const redundant =
      header.flags & FLAG_REDUNDANT_GRAIN_TABLE &&
      header.rgdOffset > 0 &&
      !(header.flags & FLAG_COMPRESSED_GRAINS);
    const rgd = redundant ? await loadDirectory(header.rgdOffset, "redundant grain directory") : undefined;
    return new SparseExtent(source, header, gd, rgd, readOnly, footerLayout);
  }

  /**
   * Creates an empty extent in `source` with `descriptor` embedded (it must fit
   * `header.descriptorSize`). Uncompressed: redundant and primary grain
   * directory and tables are preallocated after the descriptor. Compressed:
   * an empty stream (footer layout) follows the descriptor.
   */
  static async create(
    source: ByteSource,
    header: SparseExtentHeader,
    descriptor: Uint8Array,
  ): Promise<SparseExtent> {
    const { capacity, grainSize, numGTEsPerGT } = header;
    const numGDEs = Math.ceil(capacity / (grainSize * numGTEsPerGT));
    const gdSectors = Math.ceil((numGDEs * 4) / SECTOR);
    const gtSectors = Math.ceil((numGTEsPerGT * 4) / SECTOR);
    await source.truncate(0);
    const compressed = (header.flags & FLAG_COMPRESSED_GRAINS) !== 0;
    let end = header.descriptorOffset + header.descriptorSize;
    if (!compressed) {
      header.rgdOffset = end;
      header.gdOffset = end + gdSectors + numGDEs * gtSectors;
      end = header.gdOffset + gdSectors + numGDEs * gtSectors;
      for (const dirSector of [header.rgdOffset, header.gdOffset]) {
        const dir = new Uint8Array(gdSectors * SECTOR);
        for (let i = 0; i < numGDEs; i++) writeU32LE(dir, i * 4, dirSector + gdSectors + i * gtSectors);
        await source.write(dirSector * SECTOR, dir);
      }
    }
    header.overHead = Math.ceil(end / grainSize) * grainSize;
    await source.write(0, encodeSparseHeader(header));
    await source.write(header.descriptorOffset * SECTOR, descriptor);
    await source.truncate(header.overHead * SECTOR);
    if (compressed) {
      const extent = new SparseExtent(
        source,
        { ...header },
        new Uint32Array(numGDEs),
        undefined,
        false,
        true,
      );
      extent.nextSector = header.overHead;
      extent.holdTables = true;
      extent.metadataDirty = true;
      await extent.flush();
      return extent;
    }
    return SparseExtent.open(source, false);
  }

  private async grainTable(gdIndex: number): Promise<Uint32Array | undefined> {
    const cached = this.gts.get(gdIndex);
    if (cached) return cached;
    const sector = this.gd[gdIndex];
    if (sector === 0) return undefined;
    const n = this.header.numGTEsPerGT;
    const raw = await readExact(this.source, sector * SECTOR, n * 4, "VMDK grain table");
    const gt = new Uint32Array(n);
    for (let i = 0; i < n; i++) gt[i] = readU32LE(raw, i * 4);
    // A bounded cache, except while a compressed extent is being written: flush rewrites every table.
    if (!this.holdTables && this.gts.size >= GT_CACHE_ENTRIES) this.gts.clear();
    this.gts.set(gdIndex, gt);
    return gt;
  }

  private async entry(grain: number): Promise<number> {
    const n = this.header.numGTEsPerGT;
    const gt = await this.grainTable(Math.floor(grain / n));
    return gt ? gt[grain % n] : 0;
  }

  /** Uncompressed extents with FLAG_ZEROED_GRAIN_GTE store all-zero grains as zeroed-grain entries. */
  private get zeroedGrains(): boolean {
    return !this.compressed && (this.header.flags & FLAG_ZEROED_GRAIN_GTE) !== 0;
  }

  private isZeroed(gte: number): boolean {
    return gte === GTE_ZEROED && (this.header.flags & FLAG_ZEROED_GRAIN_GTE) !== 0;
  }

  /** Decompresses the grain whose marker is at `sector` (the last one is cached). */
  private async compressedGrain(sector: number): Promise<Uint8Array> {
    if (this.cachedGrain?.sector === sector) return this.cachedGrain.data;
    const at = sector * SECTOR;
    const head = await readExact(this.source, at, 12, "VMDK grain marker");
    const size = readU32LE(head, 8);
    if (size === 0 || size > this.grainBytes * 2 + 1024) {
      throw new CorruptDataError(
        `${this.source.name}: VMDK compressed grain at sector ${sector} claims ${size} bytes`,
      );
    }
    const packed = await readExact(this.source, at + 12, size, "VMDK compressed grain");
    const data = new Uint8Array(this.grainBytes);
    try {
      data.set(unzlibSync(packed, { out: new Uint8Array(this.grainBytes) }));
    } catch (e) {
      throw new CorruptDataError(`${this.source.name}: VMDK grain at sector ${sector} does not inflate`, {
        cause: e,
      });
    }
    this.cachedGrain = { sector, data };
    return data;
  }

  async read(offset: number, dest: Uint8Array, background: BackgroundReader): Promise<void> {
    for (const p of granules(offset, dest.length, this.grainBytes)) {
      const part = dest.subarray(p.pos, p.pos + p.length);
      const gte = await this.entry(p.index);
      if (gte === 0) await background(offset + p.pos, part);
      else if (this.isZeroed(gte)) part.fill(0);
      else if (this.compressed)
        part.set((await this.compressedGrain(gte)).subarray(p.start, p.start + p.length));
      else {
        const n = await this.source.read(gte * SECTOR + p.start, part);
        if (n !== part.length)
          throw new CorruptDataError(`${this.source.name}: VMDK grain at sector ${gte} is truncated`);
      }
    }
  }

  async write(
    offset: number,
    src: Uint8Array,
    background: BackgroundReader,
    hasBackground: boolean,
  ): Promise<void> {
    // New grains of one write are consecutive: append them together.
    let pending: { grain: number; data: Uint8Array }[] = [];
    const appendPending = async () => {
      if (pending.length > 0) await this.appendGrains(pending);
      pending = [];
    };
    for (const p of granules(offset, src.length, this.grainBytes)) {
      const part = src.subarray(p.pos, p.pos + p.length);
      const gte = await this.entry(p.index);
      if (gte !== 0 && !this.isZeroed(gte) && !this.compressed) {
        await appendPending();
        await this.source.write(gte * SECTOR + p.start, part);
        continue;
      }
      if (gte === 0 && !hasBackground && isZero(part)) {
        await appendPending();
        continue;
      }
      const grainStart = offset + p.pos - p.start;
      const grain = new Uint8Array(Math.min(this.grainBytes, this.size - grainStart));
      if (gte === 0) await background(grainStart, grain);
      else if (!this.isZeroed(gte)) grain.set((await this.compressedGrain(gte)).subarray(0, grain.length));
      grain.set(part, p.start);
      if (this.zeroedGrains && isZero(grain)) {
        // A zeroed-grain entry hides the parent's data without storing a grain.
        await appendPending();
        if (gte !== GTE_ZEROED) await this.setEntries(p.index, [GTE_ZEROED]);
        continue;
      }
      pending.push({ grain: p.index, data: grain });
    }
    await appendPending();
  }

  /**
   * Appends consecutive grains (each compressed behind a marker when the extent
   * is compressed) with one write, then points their entries at them.
   */
  private async appendGrains(grains: { grain: number; data: Uint8Array }[]): Promise<void> {
    const n = this.header.numGTEsPerGT;
    // Fail before writing any data when a grain table is missing.
    for (const g of grains) await this.writableTable(Math.floor(g.grain / n));
    const start = await this.allocationSector();
    const pieces = await Promise.all(
      grains.map(async ({ grain, data }) => {
        if (!this.compressed) return data;
        const packed = await zlibDeflate(data);
        const bytes = new Uint8Array(Math.ceil((12 + packed.length) / SECTOR) * SECTOR);
        writeU64LE(bytes, 0, BigInt(grain * this.header.grainSize));
        writeU32LE(bytes, 8, packed.length);
        bytes.set(packed, 12);
        return bytes;
      }),
    );
    const sizes = pieces.map((b) => (this.compressed ? b.length : this.grainBytes));
    const all = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
    const sectors: number[] = [];
    let at = 0;
    for (const [i, b] of pieces.entries()) {
      all.set(b, at);
      sectors.push(start + at / SECTOR);
      at += sizes[i];
    }
    await this.source.write(start * SECTOR, all);
    this.nextSector = start + all.length / SECTOR;
    await this.setEntries(grains[0].grain, sectors);
  }

  /** The grain table for `gdIndex`: compressed extents get a new one, uncompressed ones must have it. */
  private async writableTable(gdIndex: number): Promise<Uint32Array> {
    const gt = await this.grainTable(gdIndex);
    if (gt) return gt;
    if (!this.compressed) {
      throw new UnsupportedError(`${this.source.name}: VMDK grain table ${gdIndex} is not allocated`);
    }
    const created = new Uint32Array(this.header.numGTEsPerGT);
    this.gts.set(gdIndex, created);
    return created;
  }

  /** Points the entries of grains `first, first + 1, ...` at `sectors`, one table write per grain table. */
  private async setEntries(first: number, sectors: number[]): Promise<void> {
    const n = this.header.numGTEsPerGT;
    let i = 0;
    while (i < sectors.length) {
      const grain = first + i;
      const gdIndex = Math.floor(grain / n);
      const count = Math.min(sectors.length - i, n - (grain % n));
      const gt = await this.writableTable(gdIndex);
      const bytes = new Uint8Array(count * 4);
      for (let k = 0; k < count; k++) {
        gt[(grain % n) + k] = sectors[i + k];
        writeU32LE(bytes, k * 4, sectors[i + k]);
      }
      if (this.compressed) {
        this.metadataDirty = true;
      } else {
        await this.source.write(this.gd[gdIndex] * SECTOR + (grain % n) * 4, bytes);
        if (this.rgd && this.rgd[gdIndex] !== 0) {
          await this.source.write(this.rgd[gdIndex] * SECTOR + (grain % n) * 4, bytes);
        }
      }
      i += count;
    }
  }

  /**
   * Where new grains go: the end of the file for uncompressed extents; after
   * the last grain for compressed ones (their metadata is rewritten behind it).
   */
  private async allocationSector(): Promise<number> {
    if (this.nextSector >= 0) return this.nextSector;
    const fileSectors = Math.ceil((await this.source.size()) / SECTOR);
    if (!this.compressed) {
      this.nextSector = Math.max(fileSectors, this.header.overHead);
      return this.nextSector;
    }
    // Load every grain table (they are rewritten on flush) and find the end of the last grain.
    const tableBytes = this.gd.length * this.header.numGTEsPerGT * 4;
    if (tableBytes > MAX_HELD_TABLE_BYTES) {
      throw new UnsupportedError(
        `${this.source.name}: writing a stream of ${this.gd.length} grain tables is not supported`,
      );
    }
    this.gts.clear();
    this.holdTables = true;
    let last = 0;
    for (let i = 0; i < this.gd.length; i++) {
      const gt = await this.grainTable(i);
      if (gt) for (const gte of gt) if (!this.isZeroed(gte) && gte > last) last = gte;
    }
    let end = this.header.overHead;
    if (last > 0) {
      const head = await readExact(this.source, last * SECTOR, 12, "VMDK grain marker");
      end = Math.max(end, last + Math.ceil((12 + readU32LE(head, 8)) / SECTOR));
    }
    // An image whose grain directory sits before the grains (qemu's layout) keeps it; append after everything.
    if (!this.footerLayout) end = Math.max(end, fileSectors);
    this.nextSector = end;
    return end;
  }

  /** Compressed extents: writes grain tables, grain directory, footer and end-of-stream marker after the last grain. */
  async flush(): Promise<void> {
    if (!this.compressed || !this.metadataDirty) return;
    let sector = await this.allocationSector();
    const n = this.header.numGTEsPerGT;
    const gtSectors = Math.ceil((n * 4) / SECTOR);
    const gd = new Uint32Array(this.gd.length);
    for (let i = 0; i < this.gd.length; i++) {
      const gt = await this.grainTable(i);
      if (!gt) continue;
      const bytes = new Uint8Array((1 + gtSectors) * SECTOR);
      bytes.set(metadataMarker(gtSectors, MARKER_GT));
      for (let k = 0; k < n; k++) writeU32LE(bytes, SECTOR + k * 4, gt[k]);
      await this.source.write(sector * SECTOR, bytes);
      gd[i] = sector + 1;
      sector += 1 + gtSectors;
    }
    const gdSectors = Math.ceil((gd.length * 4) / SECTOR);
    const gdBytes = new Uint8Array((1 + gdSectors) * SECTOR);
    gdBytes.set(metadataMarker(gdSectors, MARKER_GD));
    for (let i = 0; i < gd.length; i++) writeU32LE(gdBytes, SECTOR + i * 4, gd[i]);
    await this.source.write(sector * SECTOR, gdBytes);
    const footer = { ...this.header, gdOffset: sector + 1, rgdOffset: 0 };
    sector += 1 + gdSectors;
    const tail = new Uint8Array(3 * SECTOR);
    tail.set(metadataMarker(1, MARKER_FOOTER));
    tail.set(encodeSparseHeader(footer), SECTOR);
    await this.source.write(sector * SECTOR, tail);
    await this.source.truncate((sector + 3) * SECTOR);
    this.gd.set(gd);
    this.header.gdOffset = footer.gdOffset;
    if (!this.footerLayout) {
      // From now on the header defers to the footer.
      await this.source.write(0, encodeSparseHeader({ ...this.header, gdOffset: GD_AT_END, rgdOffset: 0 }));
      this.footerLayout = true;
    }
    this.metadataDirty = false;
  }

  async status(offset: number, length: number): Promise<MapExtent[]> {
    let out: MapExtent[] = [];
    for (const p of granules(offset, length, this.grainBytes)) {
      // Merge as we go: a map of a large disk would otherwise hold one extent per grain.
      if (out.length >= 4096) out = mergeExtents(out);
      const gte = await this.entry(p.index);
      const start = offset + p.pos;
      const len = p.length;
      if (gte === 0) out.push({ start, length: len, depth: 0, present: false, zero: false, data: false });
      else if (this.isZeroed(gte))
        out.push({ start, length: len, depth: 0, present: true, zero: true, data: false });
      else if (this.compressed)
        out.push({ start, length: len, depth: 0, present: true, zero: false, data: true, compressed: true });
      else
        out.push({
          start,
          length: len,
          depth: 0,
          present: true,
          zero: false,
          data: true,
          offset: gte * SECTOR + p.start,
        });
    }
    return mergeExtents(out);
  }

  /** Counts corruptions: grain tables or grains outside the file, uncompressed grains inside the metadata. */
  async check(): Promise<number> {
    const fileSize = await this.source.size();
    let corruptions = 0;
    for (let i = 0; i < this.gd.length; i++) {
      let gt: Uint32Array | undefined;
      try {
        gt = await this.grainTable(i);
      } catch {
        corruptions++;
        continue;
      }
      if (!gt) continue;
      for (const gte of gt) {
        if (gte === 0 || this.isZeroed(gte)) continue;
        const end = gte * SECTOR + (this.compressed ? 12 : this.grainBytes);
        if (end > fileSize || (!this.compressed && gte < this.header.overHead)) corruptions++;
      }
    }
    return corruptions;
  }
}
