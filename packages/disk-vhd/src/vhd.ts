/**
 * VHD images (Microsoft Virtual Hard Disk Image Format Specification 1.0):
 * fixed disks (data followed by the footer), dynamic disks (footer copy,
 * dynamic disk header, Block Allocation Table, blocks of a sector bitmap plus
 * data, footer) and differencing disks (a dynamic disk whose clear bitmap
 * bits read from the parent named by its parent locators).
 *
 * Virtual size follows qemu's rules, so both agree on every image: when the
 * footer's Creator Application is "vpc " or "qemu" the size is the CHS
 * geometry (cylinders x heads x sectors x 512) unless the geometry is the
 * maximum 65535/16/255; otherwise it is Current Size. Create without
 * force_size rounds the size up to the next CHS geometry (as qemu-img does)
 * and stores it as Current Size too; with force_size=on it keeps the size
 * (rounded up to 512) and writes the maximum geometry, like qemu-img.
 *
 * Deviation: Creator Application is written as "bkpl". Bitmaps of dynamic
 * (non-differencing) disks are ignored on read, and new blocks get a full
 * bitmap, as qemu does. Platform Data Space of parent locators is written in
 * bytes, as Virtual PC and Hyper-V do (the spec says sectors); it is not read.
 * Parent Time Stamp is set from the parent footer's Time Stamp (a ByteSource
 * has no modification time) and not verified on open; Parent Unique ID is.
 * Sizes above 2040 GiB are refused on create, as by qemu-img.
 */
import {
  CorruptDataError,
  InvalidArgumentError,
  ReadOnlyError,
  readU32BE,
  UnsupportedError,
  writeU32BE,
} from "@backplane/core";
import type {
  BackingOpener,
  ByteSource,
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
  readBacking,
  readExact,
  SerialQueue,
} from "@backplane/disk";
import {
  chsGeometry,
  DISK_TYPE_DIFFERENCING,
  DISK_TYPE_DYNAMIC,
  DISK_TYPE_FIXED,
  DYNAMIC_HEADER_SIZE,
  encodeDynamicHeader,
  encodeFooter,
  FOOTER_SIZE,
  MAX_CHS_SECTORS,
  type ParentLocator,
  PLATFORM_CODE_MACX,
  PLATFORM_CODE_W2KU,
  PLATFORM_CODE_W2RU,
  parseDynamicHeader,
  parseFooter,
  SECTOR,
  type VhdDynamicHeader,
  type VhdFooter,
} from "./structures.js";

const DEFAULT_BLOCK_SIZE = 2 << 20;
/** Blocks larger than this are refused so a corrupt header cannot make us allocate huge buffers. */
const MAX_BLOCK_SIZE = 256 << 20;
/** 2040 GiB, the largest disk the specification allows for dynamic disks. */
const MAX_CREATE_SIZE = 2040 * 2 ** 30;
/** Seconds between 1970-01-01 and 2000-01-01 (the VHD epoch). */
const VHD_EPOCH = 946684800;
const MAX_LOCATOR_LENGTH = 64 * 1024;
const UNALLOCATED = 0xffffffff;

/** Virtual size in bytes from the footer, by qemu's creator-application rules (see the header comment). */
export function vhdVirtualSize(footer: VhdFooter): number {
  const chs = footer.cylinders * footer.heads * footer.sectorsPerTrack;
  const useChs = footer.creatorApplication === "vpc " || footer.creatorApplication === "qemu";
  if (useChs && chs !== MAX_CHS_SECTORS) return chs * SECTOR;
  return Math.floor(footer.currentSize / SECTOR) * SECTOR;
}

/** Size and geometry a new image gets for a requested size (qemu-img's rules, see the header comment). */
export function vhdCreateGeometry(
  size: number,
  forceSize: boolean,
): { size: number; cylinders: number; heads: number; sectorsPerTrack: number } {
  const sectors = Math.ceil(size / SECTOR);
  if (forceSize) return { size: sectors * SECTOR, cylinders: 65535, heads: 16, sectorsPerTrack: 255 };
  // Grow the request until the geometry covers it; the geometry function rounds down.
  let g = chsGeometry(sectors);
  for (let i = 1; g.cylinders * g.heads * g.sectorsPerTrack < sectors; i++) {
    g = chsGeometry(sectors + i);
    if (g.cylinders * g.heads * g.sectorsPerTrack === MAX_CHS_SECTORS) break;
  }
  const chs = g.cylinders * g.heads * g.sectorsPerTrack;
  return { size: (chs === MAX_CHS_SECTORS ? sectors : chs) * SECTOR, ...g };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Decodes a parent locator's platform data into a path with "/" separators. */
function locatorPath(code: number, data: Uint8Array): string | undefined {
  let s: string;
  if (code === PLATFORM_CODE_W2KU || code === PLATFORM_CODE_W2RU)
    s = new TextDecoder("utf-16le").decode(data);
  else if (code === PLATFORM_CODE_MACX)
    s = decodeURI(new TextDecoder().decode(data).replace(/^file:\/\//, ""));
  else return undefined;
  s = s.replace(/\0+$/, "").replaceAll("\\", "/");
  return s.startsWith("./") ? s.slice(2) : s;
}

/** An open VHD image (fixed, dynamic or differencing). */
export class VhdImage implements DiskImage {
  readonly format = "vpc";
  readonly blockSize = SECTOR;
  readonly source: ByteSource;
  readonly readOnly: boolean;
  readonly footer: VhdFooter;
  readonly dynamicHeader: VhdDynamicHeader | undefined;
  readonly size: number;
  /** The parent of a differencing disk, when opened with its backing chain. */
  readonly backing: DiskImage | undefined;
  /** The parent name the image was opened with (from its locators). */
  readonly backingFilename: string | undefined;
  private readonly bat: Uint32Array;
  private readonly bitmapSize: number;
  /** Byte offset where the next block goes; the footer follows the last block. */
  private nextBlockOffset: number;

  private constructor(init: {
    source: ByteSource;
    readOnly: boolean;
    footer: VhdFooter;
    header?: VhdDynamicHeader;
    bat?: Uint32Array;
    nextBlockOffset?: number;
    backing?: DiskImage;
    backingFilename?: string;
  }) {
    this.source = init.source;
    this.readOnly = init.readOnly;
    this.footer = init.footer;
    this.dynamicHeader = init.header;
    this.bat = init.bat ?? new Uint32Array(0);
    this.nextBlockOffset = init.nextBlockOffset ?? 0;
    this.backing = init.backing;
    this.backingFilename = init.backingFilename;
    this.size = vhdVirtualSize(init.footer);
    const blockSize = init.header?.blockSize ?? 0;
    this.bitmapSize = Math.ceil(blockSize / SECTOR / 8 / SECTOR) * SECTOR;
  }

  static async open(source: ByteSource, options: OpenOptions = {}): Promise<VhdImage> {
    const readOnly = options.readOnly === true || source.readOnly;
    const fileSize = await source.size();
    if (fileSize < FOOTER_SIZE) throw new CorruptDataError(`${source.name}: too small for a VHD footer`);
    // The footer at the end is authoritative; the copy at offset 0 of dynamic
    // disks stands in when the end holds no footer at all (an interrupted append).
    let footer = parseFooter(await readExact(source, fileSize - FOOTER_SIZE, FOOTER_SIZE, "VHD footer"));
    footer ??= parseFooter(await readExact(source, 0, FOOTER_SIZE, "VHD footer copy"));
    if (!footer) throw new CorruptDataError(`${source.name}: no VHD footer ('conectix' cookie) found`);
    const type = footer.diskType;
    if (type === DISK_TYPE_FIXED) {
      const image = new VhdImage({ source, readOnly, footer });
      if (image.size > fileSize - FOOTER_SIZE) {
        throw new CorruptDataError(`${source.name}: fixed VHD of ${image.size} bytes needs a larger file`);
      }
      return image;
    }
    if (type !== DISK_TYPE_DYNAMIC && type !== DISK_TYPE_DIFFERENCING) {
      throw new UnsupportedError(`${source.name}: VHD disk type ${type} is not supported`);
    }
    if (footer.dataOffset < 0 || footer.dataOffset + DYNAMIC_HEADER_SIZE > fileSize) {
      throw new CorruptDataError(
        `${source.name}: VHD dynamic header offset ${footer.dataOffset} is outside the file`,
      );
    }
    const header = parseDynamicHeader(
      await readExact(source, footer.dataOffset, DYNAMIC_HEADER_SIZE, "VHD dynamic header"),
    );
    const { blockSize, maxTableEntries, tableOffset } = header;
    if (blockSize < SECTOR || blockSize > MAX_BLOCK_SIZE || blockSize % SECTOR !== 0) {
      throw new CorruptDataError(`${source.name}: VHD block size ${blockSize} is out of range`);
    }
    const batBytes = maxTableEntries * 4;
    if (tableOffset < 0 || tableOffset + batBytes > fileSize) {
      throw new CorruptDataError(
        `${source.name}: VHD block allocation table (${maxTableEntries} entries) is outside the file`,
      );
    }
    const size = vhdVirtualSize(footer);
    if (size > maxTableEntries * blockSize) {
      throw new CorruptDataError(
        `${source.name}: VHD size ${size} exceeds ${maxTableEntries} blocks of ${blockSize} bytes`,
      );
    }
    const raw = await readExact(source, tableOffset, batBytes, "VHD block allocation table");
    const bat = new Uint32Array(maxTableEntries);
    const bitmapSize = Math.ceil(blockSize / SECTOR / 8 / SECTOR) * SECTOR;
    let next = Math.ceil((tableOffset + batBytes) / SECTOR) * SECTOR;
    // New blocks must not land on parent locator data, which may follow the BAT. Its
    // reserved space is in bytes or (as the spec says) sectors: keep the larger when it fits.
    for (const l of header.parentLocators) {
      if (l.platformDataOffset < 0) continue;
      const asSectors = l.platformDataOffset + l.platformDataSpace * SECTOR;
      const reserved = Math.max(
        l.platformDataLength,
        l.platformDataSpace,
        asSectors <= fileSize ? l.platformDataSpace * SECTOR : 0,
      );
      next = Math.max(next, Math.ceil((l.platformDataOffset + reserved) / SECTOR) * SECTOR);
    }
    for (let i = 0; i < maxTableEntries; i++) {
      const e = readU32BE(raw, i * 4);
      bat[i] = e;
      if (e === UNALLOCATED) continue;
      const end = e * SECTOR + bitmapSize + blockSize;
      if (end > fileSize) {
        throw new CorruptDataError(
          `${source.name}: VHD block ${i} at sector ${e} extends past the end of the file`,
        );
      }
      next = Math.max(next, end);
    }
    let backing: DiskImage | undefined;
    let backingFilename: string | undefined;
    if (type === DISK_TYPE_DIFFERENCING) {
      const names = await parentNames(source, header, fileSize);
      backingFilename = names[0];
      if (!options.noBacking) {
        ({ backing, backingFilename } = await openParent(source, header, names, options.openBacking));
      }
    }
    return new VhdImage({
      source,
      readOnly,
      footer,
      header,
      bat,
      nextBlockOffset: next,
      backing,
      backingFilename,
    });
  }

  /**
   * Creates an image. `options.options`: `subformat` = `dynamic` (default) or
   * `fixed`, `force_size` = `on` | `off` (default off). A `backingFile` makes a
   * differencing disk; its parent must be a VHD, opened with `openBacking`.
   */
  static async create(source: ByteSource, options: CreateOptions): Promise<VhdImage> {
    const opts = options.options ?? {};
    for (const key of Object.keys(opts)) {
      if (key !== "subformat" && key !== "force_size")
        throw new InvalidArgumentError(`unknown VHD option '${key}'`);
    }
    const subformat = opts.subformat ?? "dynamic";
    if (subformat !== "dynamic" && subformat !== "fixed") {
      throw new InvalidArgumentError(`VHD subformat '${subformat}': expected dynamic or fixed`);
    }
    const forceSize = opts.force_size ?? "off";
    if (forceSize !== "on" && forceSize !== "off") {
      throw new InvalidArgumentError(`VHD force_size=${forceSize}: expected on or off`);
    }
    // What a differencing disk records about its parent (the parent is closed again at once).
    let parent: { size: number; uniqueId: Uint8Array; timeStamp: number } | undefined;
    if (options.backingFile !== undefined) {
      if (subformat === "fixed") throw new InvalidArgumentError("a fixed VHD cannot have a parent");
      if (!options.openBacking)
        throw new InvalidArgumentError("creating a differencing VHD needs openBacking");
      const opened = await options.openBacking(options.backingFile, options.backingFormat, source.name);
      await opened.close();
      if (!(opened instanceof VhdImage)) {
        throw new UnsupportedError(`the parent of a differencing VHD must be a VHD, not ${opened.format}`);
      }
      parent = { size: opened.size, uniqueId: opened.footer.uniqueId, timeStamp: opened.footer.timeStamp };
    }
    const requested = options.size ?? parent?.size;
    if (requested === undefined || !Number.isSafeInteger(requested) || requested < 0) {
      throw new InvalidArgumentError("VHD create needs a non-negative virtual size");
    }
    if (requested > MAX_CREATE_SIZE) throw new InvalidArgumentError(`VHD size ${requested} exceeds 2040 GiB`);
    const g = vhdCreateGeometry(requested, forceSize === "on");
    const dynamic = subformat === "dynamic";
    const footer: VhdFooter = {
      features: 2,
      fileFormatVersion: 0x00010000,
      dataOffset: dynamic ? FOOTER_SIZE : -1,
      timeStamp: Math.max(0, Math.floor(Date.now() / 1000) - VHD_EPOCH) >>> 0,
      creatorApplication: "bkpl",
      creatorVersion: 0x00010000,
      creatorHostOs: "Wi2k",
      originalSize: g.size,
      currentSize: g.size,
      cylinders: g.cylinders,
      heads: g.heads,
      sectorsPerTrack: g.sectorsPerTrack,
      diskType: parent ? DISK_TYPE_DIFFERENCING : dynamic ? DISK_TYPE_DYNAMIC : DISK_TYPE_FIXED,
      uniqueId: randomUuid(),
      savedState: 0,
    };
    await source.truncate(0);
    if (!dynamic) {
      await source.truncate(g.size);
      await source.write(g.size, encodeFooter(footer));
      await source.flush();
      return VhdImage.open(source);
    }
    const maxTableEntries = Math.ceil(g.size / DEFAULT_BLOCK_SIZE);
    let offset = FOOTER_SIZE + DYNAMIC_HEADER_SIZE;
    const locators: ParentLocator[] = [];
    const locatorData: Uint8Array[] = [];
    if (parent && options.backingFile !== undefined) {
      for (const [code, path] of locatorPaths(options.backingFile, source.name)) {
        const data = encodeUtf16le(path);
        const space = Math.ceil(data.length / SECTOR) * SECTOR;
        locators.push({
          platformCode: code,
          platformDataSpace: space,
          platformDataLength: data.length,
          platformDataOffset: offset,
        });
        locatorData.push(data);
        offset += space;
      }
    }
    const header: VhdDynamicHeader = {
      tableOffset: offset,
      headerVersion: 0x00010000,
      maxTableEntries,
      blockSize: DEFAULT_BLOCK_SIZE,
      parentUniqueId: parent ? parent.uniqueId : new Uint8Array(16),
      parentTimeStamp: parent ? parent.timeStamp : 0,
      parentUnicodeName: options.backingFile?.split(/[\\/]/).pop() ?? "",
      parentLocators: locators,
    };
    const batBytes = Math.ceil((maxTableEntries * 4) / SECTOR) * SECTOR;
    const footerBytes = encodeFooter(footer);
    await source.write(0, footerBytes);
    await source.write(FOOTER_SIZE, encodeDynamicHeader(header));
    for (const [i, l] of locators.entries()) await source.write(l.platformDataOffset, locatorData[i]);
    await source.write(offset, new Uint8Array(batBytes).fill(0xff));
    await source.write(offset + batBytes, footerBytes);
    await source.flush();
    return VhdImage.open(source, { openBacking: options.openBacking });
  }

  private get differencing(): boolean {
    return this.footer.diskType === DISK_TYPE_DIFFERENCING;
  }

  async read(offset: number, dest: Uint8Array): Promise<void> {
    checkRange(this.size, offset, dest.length);
    const header = this.dynamicHeader;
    if (!header) {
      const n = await this.source.read(offset, dest);
      if (n !== dest.length) throw new CorruptDataError(`${this.source.name}: fixed VHD data is truncated`);
      return;
    }
    for (const p of granules(offset, dest.length, header.blockSize)) {
      const part = dest.subarray(p.pos, p.pos + p.length);
      const entry = this.bat[p.index];
      const abs = offset + p.pos;
      if (entry === UNALLOCATED) {
        await readBacking(this.backing, abs, part);
      } else if (!this.differencing) {
        await this.readData(entry, p.start, part);
      } else {
        const bitmap = await this.readBitmap(entry);
        for (const run of bitmapRuns(bitmap, p.start, p.length)) {
          const sub = part.subarray(run.start - p.start, run.end - p.start);
          if (run.set) await this.readData(entry, run.start, sub);
          else await readBacking(this.backing, abs + run.start - p.start, sub);
        }
      }
    }
  }

  private async readData(entry: number, inBlock: number, dest: Uint8Array): Promise<void> {
    const n = await this.source.read(entry * SECTOR + this.bitmapSize + inBlock, dest);
    if (n !== dest.length) throw new CorruptDataError(`${this.source.name}: VHD block data is truncated`);
  }

  private async readBitmap(entry: number): Promise<Uint8Array> {
    return readExact(this.source, entry * SECTOR, this.bitmapSize, "VHD sector bitmap");
  }

  /** Writes and flushes run one at a time: allocation must not interleave. */
  private readonly queue = new SerialQueue();

  write(offset: number, src: Uint8Array): Promise<void> {
    return this.queue.run(() => this.writeNow(offset, src));
  }

  private async writeNow(offset: number, src: Uint8Array): Promise<void> {
    if (this.readOnly) throw new ReadOnlyError(`${this.source.name} is open read-only`);
    checkRange(this.size, offset, src.length);
    const header = this.dynamicHeader;
    if (!header) {
      await this.source.write(offset, src);
      return;
    }
    for (const p of granules(offset, src.length, header.blockSize)) {
      const part = src.subarray(p.pos, p.pos + p.length);
      let entry = this.bat[p.index];
      if (entry === UNALLOCATED) {
        // Unallocated blocks of dynamic disks read as zeroes: nothing to do for zeroes.
        if (!this.differencing && isZero(part)) continue;
        entry = await this.allocate(p.index);
      }
      if (this.differencing) await this.writeDifferencing(entry, offset + p.pos, p.start, part);
      else await this.source.write(entry * SECTOR + this.bitmapSize + p.start, part);
    }
  }

  /** Writes inside an allocated block of a differencing disk, filling partial sectors from the parent. */
  private async writeDifferencing(
    entry: number,
    abs: number,
    inBlock: number,
    part: Uint8Array,
  ): Promise<void> {
    const bitmap = await this.readBitmap(entry);
    const first = Math.floor(inBlock / SECTOR);
    const last = Math.ceil((inBlock + part.length) / SECTOR);
    const buf = new Uint8Array((last - first) * SECTOR);
    const head = inBlock - first * SECTOR;
    const absFirst = abs - head;
    for (const s of new Set([first, last - 1])) {
      const covered = s * SECTOR >= inBlock && (s + 1) * SECTOR <= inBlock + part.length;
      if (covered) continue;
      const sector = buf.subarray((s - first) * SECTOR, (s - first + 1) * SECTOR);
      if (bitmap[s >>> 3] & (0x80 >>> (s & 7))) await this.readData(entry, s * SECTOR, sector);
      else await readBacking(this.backing, absFirst + (s - first) * SECTOR, sector);
    }
    buf.set(part, head);
    await this.source.write(entry * SECTOR + this.bitmapSize + first * SECTOR, buf);
    let changed = false;
    for (let s = first; s < last; s++) {
      const bit = 0x80 >>> (s & 7);
      if (!(bitmap[s >>> 3] & bit)) {
        bitmap[s >>> 3] |= bit;
        changed = true;
      }
    }
    if (changed) await this.source.write(entry * SECTOR, bitmap);
  }

  /**
   * Appends a block for BAT entry `index`: bitmap and zeroed data where the
   * footer was, then the footer after it, then the BAT entry.
   */
  private async allocate(index: number): Promise<number> {
    const header = this.dynamicHeader as VhdDynamicHeader;
    const start = this.nextBlockOffset;
    const end = start + this.bitmapSize + header.blockSize;
    const bitmap = new Uint8Array(this.bitmapSize);
    // Dynamic disks: every sector of a new block is in use (it reads as zeroes); differencing: none yet.
    if (!this.differencing) bitmap.fill(0xff);
    await this.source.write(start, bitmap);
    const zero = new Uint8Array(Math.min(header.blockSize, 1 << 20));
    const dataStart = start + this.bitmapSize;
    const fileSize = await this.source.size();
    for (let o = 0; o < header.blockSize && dataStart + o < fileSize; o += zero.length) {
      await this.source.write(dataStart + o, zero.subarray(0, Math.min(zero.length, header.blockSize - o)));
    }
    await this.source.write(end, encodeFooter(this.footer));
    if (fileSize > end + FOOTER_SIZE) await this.source.truncate(end + FOOTER_SIZE);
    const entry = start / SECTOR;
    const e = new Uint8Array(4);
    writeU32BE(e, 0, entry);
    await this.source.write(header.tableOffset + index * 4, e);
    this.bat[index] = entry;
    this.nextBlockOffset = end;
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
    await this.backing?.close();
  }

  async info(): Promise<ImageInfo> {
    const info: ImageInfo = { filename: this.source.name, format: this.format, "virtual-size": this.size };
    if (this.dynamicHeader) info["cluster-size"] = this.dynamicHeader.blockSize;
    if (this.backingFilename !== undefined) {
      info["backing-filename"] = this.backingFilename;
      if (this.backing) info["full-backing-filename"] = this.backing.source.name;
      info["backing-filename-format"] = "vpc";
    }
    info["dirty-flag"] = false;
    return info;
  }

  async blockStatus(offset: number, length: number): Promise<MapExtent[]> {
    checkRange(this.size, offset, length);
    const header = this.dynamicHeader;
    if (!header) return [{ start: offset, length, depth: 0, present: true, zero: false, data: true, offset }];
    const out: MapExtent[] = [];
    for (const p of granules(offset, length, header.blockSize)) {
      const entry = this.bat[p.index];
      const abs = offset + p.pos;
      if (entry === UNALLOCATED) {
        out.push(this.hole(abs, p.length));
        continue;
      }
      const dataStart = entry * SECTOR + this.bitmapSize;
      const runs = this.differencing
        ? bitmapRuns(await this.readBitmap(entry), p.start, p.length)
        : [{ start: p.start, end: p.start + p.length, set: true }];
      for (const r of runs) {
        const start = abs + r.start - p.start;
        out.push(
          r.set
            ? {
                start,
                length: r.end - r.start,
                depth: 0,
                present: true,
                zero: false,
                data: true,
                offset: dataStart + r.start,
              }
            : this.hole(start, r.end - r.start),
        );
      }
    }
    return mergeExtents(out);
  }

  /** An unallocated range: zeroes in a dynamic disk, the parent's data in a differencing one. */
  private hole(start: number, length: number): MapExtent {
    return this.differencing
      ? { start, length, depth: 0, present: false, zero: false, data: false }
      : { start, length, depth: 0, present: true, zero: true, data: false };
  }
}

/** Runs of equal bits of a sector bitmap over the byte range `[start, start + length)` of a block. */
function bitmapRuns(
  bitmap: Uint8Array,
  start: number,
  length: number,
): { start: number; end: number; set: boolean }[] {
  const runs: { start: number; end: number; set: boolean }[] = [];
  const end = start + length;
  let pos = start;
  while (pos < end) {
    const s = Math.floor(pos / SECTOR);
    const set = (bitmap[s >>> 3] & (0x80 >>> (s & 7))) !== 0;
    const next = Math.min(end, (s + 1) * SECTOR);
    const last = runs[runs.length - 1];
    if (last && last.set === set) last.end = next;
    else runs.push({ start: pos, end: next, set });
    pos = next;
  }
  return runs;
}

/** The parent names a differencing disk's locators give, in the order to try them, then Parent Unicode Name. */
async function parentNames(
  source: ByteSource,
  header: VhdDynamicHeader,
  fileSize: number,
): Promise<string[]> {
  const order = [PLATFORM_CODE_W2RU, PLATFORM_CODE_W2KU, PLATFORM_CODE_MACX];
  const names: string[] = [];
  const sorted = [...header.parentLocators].sort(
    (a, b) => order.indexOf(a.platformCode) - order.indexOf(b.platformCode),
  );
  for (const l of sorted) {
    if (!order.includes(l.platformCode) || l.platformDataLength === 0) continue;
    if (
      l.platformDataLength > MAX_LOCATOR_LENGTH ||
      l.platformDataOffset < 0 ||
      l.platformDataOffset + l.platformDataLength > fileSize
    ) {
      throw new CorruptDataError(`${source.name}: VHD parent locator data is outside the file`);
    }
    const data = await readExact(source, l.platformDataOffset, l.platformDataLength, "VHD parent locator");
    let path: string | undefined;
    try {
      path = locatorPath(l.platformCode, data);
    } catch (e) {
      throw new CorruptDataError(`${source.name}: VHD parent locator is not a valid path`, { cause: e });
    }
    if (path) names.push(path);
  }
  if (header.parentUnicodeName) names.push(header.parentUnicodeName);
  if (names.length === 0) throw new CorruptDataError(`${source.name}: differencing VHD names no parent`);
  return names;
}

async function openParent(
  source: ByteSource,
  header: VhdDynamicHeader,
  names: string[],
  openBacking: BackingOpener | undefined,
): Promise<{ backing: DiskImage; backingFilename: string }> {
  if (!openBacking) {
    throw new InvalidArgumentError(
      `${source.name} is a differencing VHD: opening it needs openBacking or noBacking`,
    );
  }
  let lastError: unknown;
  for (const name of names) {
    let parent: DiskImage;
    try {
      parent = await openBacking(name, "vpc", source.name);
    } catch (e) {
      lastError = e;
      continue;
    }
    if (parent instanceof VhdImage && !sameBytes(parent.footer.uniqueId, header.parentUniqueId)) {
      await parent.close();
      throw new CorruptDataError(
        `${source.name}: parent '${name}' has a different unique ID (it was replaced or modified)`,
      );
    }
    return { backing: parent, backingFilename: name };
  }
  throw lastError;
}

/** The locators to write for a parent named `name`: relative (W2ru) and absolute (W2ku) where derivable. */
function locatorPaths(name: string, childName: string): [number, string][] {
  const absolute = /^([A-Za-z]:)?[\\/]/.test(name);
  const toWindows = (p: string) => p.replaceAll("/", "\\");
  const out: [number, string][] = [];
  if (!absolute) out.push([PLATFORM_CODE_W2RU, `.\\${toWindows(name)}`]);
  const dir = childName.includes("/") ? childName.slice(0, childName.lastIndexOf("/") + 1) : "";
  if (absolute) out.push([PLATFORM_CODE_W2KU, toWindows(name)]);
  else if (dir.startsWith("/")) out.push([PLATFORM_CODE_W2KU, toWindows(dir + name)]);
  return out;
}

function encodeUtf16le(s: string): Uint8Array {
  const b = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    b[i * 2] = s.charCodeAt(i) & 0xff;
    b[i * 2 + 1] = s.charCodeAt(i) >>> 8;
  }
  return b;
}

/** The `vpc` format driver (alias `vhd`). */
export const vpcFormat: DiskFormat = {
  name: "vpc",
  aliases: ["vhd"],
  probe(header: Uint8Array): number {
    // Dynamic disks start with a footer copy; fixed ones only end with one, so they probe as raw (as in qemu).
    return header.length >= 8 && String.fromCharCode(...header.subarray(0, 8)) === "conectix" ? 100 : 0;
  },
  open: (source, options) => VhdImage.open(source, options),
  create: (source, options) => VhdImage.create(source, options),
};
