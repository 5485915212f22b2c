/**
 * VirtualBox VDI images, header version 1.1: a pre-header (text + signature +
 * version), header 1 (image type, block map and data offsets, disk and block
 * size, allocated-block count, UUIDs) and a block map of 32-bit entries, each
 * the index of the data block holding that virtual block, or "free"
 * (0xffffffff) or "zero" (0xfffffffe), both of which read as zeroes.
 * Dynamic ("normal", type 1) images allocate blocks on first write at the
 * end of the data area; static (type 2) images have every block allocated.
 *
 * Source: VirtualBox's VDICore.h layout (VDIPREHEADER, VDIHEADER1/1PLUS).
 * Deviation: undo (3) and differencing (4) images, header version 0 and
 * blocks with cbBlockExtra != 0 are refused with UnsupportedError; the
 * legacy and LCHS geometry fields are written as zero and never read.
 */
import {
  CorruptDataError,
  InvalidArgumentError,
  ReadOnlyError,
  readSafeU64LE,
  readU32LE,
  UnsupportedError,
  writeU32LE,
  writeU64LE,
} from "@backplane/core";
import type {
  ByteSource,
  CheckResult,
  CreateOptions,
  DiskFormat,
  DiskImage,
  ImageInfo,
  MapExtent,
  OpenOptions,
} from "@backplane/disk";
import {
  checkRange,
  granules,
  isZero,
  mergeExtents,
  randomUuid,
  readExact,
  SerialQueue,
} from "@backplane/disk";

/** VDI_IMAGE_SIGNATURE at offset 0x40 of the pre-header. */
export const VDI_IMAGE_SIGNATURE = 0xbeda107f;
/** Header version 1.1 (major 1 in the high 16 bits). */
export const VDI_IMAGE_VERSION = 0x00010001;
/** Block-map entry of a block that was never written. */
export const VDI_IMAGE_BLOCK_FREE = 0xffffffff;
/** Block-map entry of a block known to read as zeroes. */
export const VDI_IMAGE_BLOCK_ZERO = 0xfffffffe;
/** Image types (VDIIMAGETYPE). */
export const VDI_IMAGE_TYPE_NORMAL = 1;
export const VDI_IMAGE_TYPE_FIXED = 2;

const PREHEADER_SIZE = 0x48;
/** sizeof(VDIHEADER1PLUS): header 1 plus the LCHS geometry. */
const HEADER1PLUS_SIZE = 0x190;
/** sizeof(VDIHEADER1) without the LCHS geometry: the smallest header we can read. */
const HEADER1_SIZE = 0x180;
const SECTOR = 512;
const DEFAULT_BLOCK_SIZE = 1 << 20;
/** Blocks larger than this are refused so a corrupt header cannot make us allocate huge buffers. */
const MAX_BLOCK_SIZE = 256 << 20;
const PREHEADER_TEXT = "<<< Backplane Virtual Disk Image >>>\n";

/** Header 1 fields, named after VDIHEADER1. */
export interface VdiHeader {
  cbHeader: number;
  imageType: number;
  fFlags: number;
  offBlocks: number;
  offData: number;
  cbDisk: number;
  cbBlock: number;
  cBlocks: number;
  cBlocksAllocated: number;
  uuidCreate: Uint8Array;
  uuidModify: Uint8Array;
}

function parseHeader(b: Uint8Array): VdiHeader {
  const sig = readU32LE(b, 0x40);
  if (sig !== VDI_IMAGE_SIGNATURE) {
    throw new CorruptDataError(`not a VDI image: signature 0x${sig.toString(16)}`);
  }
  const version = readU32LE(b, 0x44);
  if (version >>> 16 !== 1) {
    throw new UnsupportedError(`VDI header version ${version >>> 16}.${version & 0xffff} is not supported`);
  }
  const h = PREHEADER_SIZE;
  const cbHeader = readU32LE(b, h);
  if (cbHeader < HEADER1_SIZE || cbHeader > SECTOR - h) {
    throw new CorruptDataError(`VDI header size ${cbHeader} is out of range`);
  }
  const cbSector = readU32LE(b, h + 0x120);
  if (cbSector !== SECTOR) throw new UnsupportedError(`VDI sector size ${cbSector} is not supported`);
  const cbBlockExtra = readU32LE(b, h + 0x134);
  if (cbBlockExtra !== 0) throw new UnsupportedError("VDI blocks with extra data are not supported");
  let cbDisk: number;
  try {
    cbDisk = readSafeU64LE(b, h + 0x128);
  } catch {
    throw new CorruptDataError("VDI disk size exceeds 2^53 bytes");
  }
  return {
    cbHeader,
    imageType: readU32LE(b, h + 4),
    fFlags: readU32LE(b, h + 8),
    offBlocks: readU32LE(b, h + 0x10c),
    offData: readU32LE(b, h + 0x110),
    cbDisk,
    cbBlock: readU32LE(b, h + 0x130),
    cBlocks: readU32LE(b, h + 0x138),
    cBlocksAllocated: readU32LE(b, h + 0x13c),
    uuidCreate: b.slice(h + 0x140, h + 0x150),
    uuidModify: b.slice(h + 0x150, h + 0x160),
  };
}

function validate(hd: VdiHeader, fileSize: number): void {
  if (hd.imageType !== VDI_IMAGE_TYPE_NORMAL && hd.imageType !== VDI_IMAGE_TYPE_FIXED) {
    throw new UnsupportedError(`VDI image type ${hd.imageType} (undo/differencing) is not supported`);
  }
  const { cbBlock, cBlocks } = hd;
  if (cbBlock < SECTOR || cbBlock > MAX_BLOCK_SIZE || cbBlock % SECTOR !== 0) {
    throw new CorruptDataError(`VDI block size ${cbBlock} is out of range`);
  }
  if (hd.cbDisk % SECTOR !== 0 || hd.cbDisk > cBlocks * cbBlock) {
    throw new CorruptDataError(
      `VDI disk size ${hd.cbDisk} does not fit ${cBlocks} blocks of ${cbBlock} bytes`,
    );
  }
  if (hd.cBlocksAllocated > cBlocks) {
    throw new CorruptDataError(`VDI claims ${hd.cBlocksAllocated} allocated of ${cBlocks} blocks`);
  }
  if (hd.offBlocks < PREHEADER_SIZE + hd.cbHeader || hd.offBlocks % SECTOR !== 0) {
    throw new CorruptDataError(`VDI block map offset ${hd.offBlocks} is invalid`);
  }
  if (hd.offBlocks + cBlocks * 4 > hd.offData || hd.offData % SECTOR !== 0) {
    throw new CorruptDataError(`VDI data offset ${hd.offData} overlaps the block map`);
  }
  if (hd.offBlocks + cBlocks * 4 > fileSize) {
    throw new CorruptDataError(`VDI block map (${cBlocks} entries) extends past the end of the file`);
  }
}

function isAllocated(entry: number): boolean {
  return entry !== VDI_IMAGE_BLOCK_FREE && entry !== VDI_IMAGE_BLOCK_ZERO;
}

/** An open VDI image. */
export class VdiImage implements DiskImage {
  readonly format = "vdi";
  readonly blockSize = SECTOR;
  readonly source: ByteSource;
  readonly readOnly: boolean;
  readonly header: VdiHeader;
  private readonly map: Uint32Array;
  private nextBlock: number;

  private constructor(source: ByteSource, header: VdiHeader, map: Uint32Array, readOnly: boolean) {
    this.source = source;
    this.header = header;
    this.map = map;
    this.readOnly = readOnly;
    let next = 0;
    for (const e of map) if (isAllocated(e) && e + 1 > next) next = e + 1;
    this.nextBlock = next;
  }

  get size(): number {
    return this.header.cbDisk;
  }

  static async open(source: ByteSource, options: OpenOptions = {}): Promise<VdiImage> {
    const fileSize = await source.size();
    if (fileSize < SECTOR) throw new CorruptDataError(`${source.name}: too small for a VDI header`);
    const header = parseHeader(await readExact(source, 0, SECTOR, "VDI header"));
    validate(header, fileSize);
    const raw = await readExact(source, header.offBlocks, header.cBlocks * 4, "VDI block map");
    const map = new Uint32Array(header.cBlocks);
    for (let i = 0; i < header.cBlocks; i++) {
      const e = readU32LE(raw, i * 4);
      if (isAllocated(e) && e >= header.cBlocks) {
        throw new CorruptDataError(`VDI block map entry ${i} points to data block ${e} of ${header.cBlocks}`);
      }
      map[i] = e;
    }
    return new VdiImage(source, header, map, options.readOnly === true || source.readOnly);
  }

  /** Creates a dynamic image, or a static one with `options.static = "on"`. */
  static async create(source: ByteSource, options: CreateOptions): Promise<VdiImage> {
    if (options.backingFile !== undefined) throw new UnsupportedError("VDI images have no backing file");
    const opts = options.options ?? {};
    for (const key of Object.keys(opts)) {
      if (key !== "static") throw new InvalidArgumentError(`unknown VDI option '${key}'`);
    }
    const isStatic = parseBool(opts.static ?? "off", "static");
    const size = options.size;
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
      throw new InvalidArgumentError("VDI create needs a non-negative virtual size");
    }
    const cbDisk = Math.ceil(size / SECTOR) * SECTOR;
    const cBlocks = Math.ceil(cbDisk / DEFAULT_BLOCK_SIZE);
    if (cBlocks >= VDI_IMAGE_BLOCK_ZERO) throw new InvalidArgumentError(`VDI size ${size} is too large`);
    const offBlocks = SECTOR;
    const offData = offBlocks + Math.ceil((cBlocks * 4) / SECTOR) * SECTOR;
    const b = new Uint8Array(offData);
    b.set(new TextEncoder().encode(PREHEADER_TEXT), 0);
    writeU32LE(b, 0x40, VDI_IMAGE_SIGNATURE);
    writeU32LE(b, 0x44, VDI_IMAGE_VERSION);
    const h = PREHEADER_SIZE;
    writeU32LE(b, h, HEADER1PLUS_SIZE);
    writeU32LE(b, h + 4, isStatic ? VDI_IMAGE_TYPE_FIXED : VDI_IMAGE_TYPE_NORMAL);
    writeU32LE(b, h + 0x10c, offBlocks);
    writeU32LE(b, h + 0x110, offData);
    writeU32LE(b, h + 0x120, SECTOR);
    writeU64LE(b, h + 0x128, BigInt(cbDisk));
    writeU32LE(b, h + 0x130, DEFAULT_BLOCK_SIZE);
    writeU32LE(b, h + 0x138, cBlocks);
    writeU32LE(b, h + 0x13c, isStatic ? cBlocks : 0);
    b.set(randomUuid(), h + 0x140);
    b.set(randomUuid(), h + 0x150);
    for (let i = 0; i < cBlocks; i++) writeU32LE(b, offBlocks + i * 4, isStatic ? i : VDI_IMAGE_BLOCK_FREE);
    await source.truncate(0);
    await source.write(0, b);
    await source.truncate(offData + (isStatic ? cBlocks * DEFAULT_BLOCK_SIZE : 0));
    await source.flush();
    return VdiImage.open(source);
  }

  async read(offset: number, dest: Uint8Array): Promise<void> {
    checkRange(this.size, offset, dest.length);
    const { cbBlock, offData } = this.header;
    for (const p of granules(offset, dest.length, cbBlock)) {
      const part = dest.subarray(p.pos, p.pos + p.length);
      const entry = this.map[p.index];
      if (isAllocated(entry)) {
        const got = await this.source.read(offData + entry * cbBlock + p.start, part);
        // A static image's tail may be missing from a truncated copy; it reads as zeroes.
        part.fill(0, got);
      } else {
        part.fill(0);
      }
    }
  }

  /** Writes and flushes run one at a time: allocation must not interleave. */
  private readonly queue = new SerialQueue();

  write(offset: number, src: Uint8Array): Promise<void> {
    return this.queue.run(() => this.writeNow(offset, src));
  }

  private async writeNow(offset: number, src: Uint8Array): Promise<void> {
    if (this.readOnly) throw new ReadOnlyError(`${this.source.name} is open read-only`);
    checkRange(this.size, offset, src.length);
    const { cbBlock, offData } = this.header;
    for (const p of granules(offset, src.length, cbBlock)) {
      const part = src.subarray(p.pos, p.pos + p.length);
      let entry = this.map[p.index];
      if (!isAllocated(entry)) {
        if (isZero(part)) continue;
        entry = await this.allocate(p.index);
      }
      await this.source.write(offData + entry * cbBlock + p.start, part);
    }
  }

  /** Appends a zeroed data block for virtual block `block` and records it in the map and header. */
  private async allocate(block: number): Promise<number> {
    const { cbBlock, offData, offBlocks } = this.header;
    const entry = this.nextBlock;
    const start = offData + entry * cbBlock;
    const fileSize = await this.source.size();
    if (fileSize <= start) {
      await this.source.truncate(start + cbBlock);
    } else {
      const zero = new Uint8Array(Math.min(cbBlock, 1 << 20));
      for (let o = 0; o < cbBlock; o += zero.length) await this.source.write(start + o, zero);
    }
    this.nextBlock = entry + 1;
    this.map[block] = entry;
    const e = new Uint8Array(4);
    writeU32LE(e, 0, entry);
    await this.source.write(offBlocks + block * 4, e);
    this.header.cBlocksAllocated++;
    writeU32LE(e, 0, this.header.cBlocksAllocated);
    await this.source.write(PREHEADER_SIZE + 0x13c, e);
    return entry;
  }

  flush(): Promise<void> {
    return this.queue.run(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    if (!this.readOnly) await this.source.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.source.close();
  }

  async info(): Promise<ImageInfo> {
    return {
      filename: this.source.name,
      format: this.format,
      "virtual-size": this.size,
      "cluster-size": this.header.cbBlock,
      "dirty-flag": false,
    };
  }

  async blockStatus(offset: number, length: number): Promise<MapExtent[]> {
    checkRange(this.size, offset, length);
    const { cbBlock, offData } = this.header;
    const out: MapExtent[] = [];
    for (const p of granules(offset, length, cbBlock)) {
      const entry = this.map[p.index];
      const start = offset + p.pos;
      out.push(
        isAllocated(entry)
          ? {
              start,
              length: p.length,
              depth: 0,
              present: true,
              zero: false,
              data: true,
              offset: offData + entry * cbBlock + p.start,
            }
          : { start, length: p.length, depth: 0, present: true, zero: true, data: false },
      );
    }
    return mergeExtents(out);
  }

  /**
   * Checks the block map: every data block used once, and the allocated count
   * right (open already refused entries out of range).
   */
  async check(): Promise<CheckResult> {
    const { cBlocks } = this.header;
    const used = new Uint8Array(cBlocks);
    let corruptions = 0;
    let allocated = 0;
    for (const e of this.map) {
      if (!isAllocated(e)) continue;
      allocated++;
      if (used[e]) corruptions++;
      else used[e] = 1;
    }
    if (allocated !== this.header.cBlocksAllocated) corruptions++;
    // Fields as qemu-img check prints them for VDI: corruptions only when there are some.
    const result: CheckResult = { filename: this.source.name, format: this.format, "check-errors": 0 };
    if (corruptions > 0) result.corruptions = corruptions;
    return result;
  }
}

function parseBool(v: string, key: string): boolean {
  if (v === "on" || v === "true") return true;
  if (v === "off" || v === "false") return false;
  throw new InvalidArgumentError(`VDI option ${key}=${v}: expected on or off`);
}

/** The `vdi` format driver. */
export const vdiFormat: DiskFormat = {
  name: "vdi",
  probe(header: Uint8Array): number {
    return header.length >= 0x48 && readU32LE(header, 0x40) === VDI_IMAGE_SIGNATURE ? 100 : 0;
  },
  open: (source, options) => VdiImage.open(source, options),
  create: (source, options) => VdiImage.create(source, options),
};
