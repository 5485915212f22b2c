/**
 * VMDK images (VMware Virtual Disk Format 5.0 technical note): a descriptor
 * (embedded in a hosted sparse extent, or a text file) listing extents that
 * are concatenated into one disk. Read: monolithicSparse, streamOptimized,
 * monolithicFlat, twoGbMaxExtentSparse, twoGbMaxExtentFlat (SPARSE, FLAT and
 * ZERO extents) and a parent named by parentFileNameHint. Write and create:
 * monolithicSparse, monolithicFlat and streamOptimized (version 3, footer
 * layout). The first write of a session gives the disk a new CID, as the
 * spec asks.
 *
 * Extent files are opened through `OpenOptions.openSibling` (or, read-only,
 * through `openBacking` as raw images when it is absent); the parent through
 * `openBacking`.
 * Deviation: VMFS extents (ESX), seSparse and vmfsSparse are refused with
 * UnsupportedError; parentCID is written but not compared with the parent's
 * CID on open; twoGbMaxExtent* images are not created.
 */
import {
  CorruptDataError,
  InvalidArgumentError,
  ReadOnlyError,
  readU32LE,
  UnsupportedError,
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
import { checkRange, mergeExtents, readBacking, readExact, SerialQueue } from "@backplane/disk";
import {
  CID_NOPARENT,
  type ExtentDescription,
  formatDescriptor,
  looksLikeDescriptor,
  MAX_DESCRIPTOR_SIZE,
  parseDescriptor,
  type VmdkDescriptor,
} from "./descriptor.js";
import {
  COMPRESSION_DEFLATE,
  FLAG_COMPRESSED_GRAINS,
  FLAG_MARKERS,
  FLAG_REDUNDANT_GRAIN_TABLE,
  FLAG_VALID_NEWLINE_DETECTION,
  FLAG_ZEROED_GRAIN_GTE,
  GD_AT_END,
  SPARSE_MAGICNUMBER,
  SparseExtent,
} from "./sparse.js";

const SECTOR = 512;
/** Sectors reserved for the embedded descriptor of images we create (as qemu-img). */
const EMBEDDED_DESCRIPTOR_SECTORS = 20;
const DEFAULT_GRAIN_SECTORS = 128;
const SUBFORMATS = ["monolithicSparse", "monolithicFlat", "streamOptimized"] as const;
const ADAPTER_TYPES = ["ide", "lsilogic", "buslogic", "legacyESX"];
const CREATE_OPTIONS = ["subformat", "adapter_type", "hwversion", "compat6", "toolsversion", "zeroed_grain"];

function parseBool(v: string, key: string): boolean {
  if (v === "on" || v === "true") return true;
  if (v === "off" || v === "false") return false;
  throw new InvalidArgumentError(`VMDK option ${key}=${v}: expected on or off`);
}

/** One extent of the disk: where it sits and what stores it. */
interface Extent {
  description: ExtentDescription;
  /** Byte offset of the extent in the virtual disk. */
  start: number;
  size: number;
  sparse?: SparseExtent;
  /** FLAT extents: the file and the byte offset of the data in it. */
  flat?: { source: ByteSource; offset: number };
}

function randomCid(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** Disk database entries the way qemu-img writes them (geometry for an adapter type). */
function ddbFor(
  sectors: number,
  adapter: string,
  hwversion: string,
  toolsVersion: string,
): Map<string, string> {
  const heads = adapter === "ide" ? 16 : 255;
  const cylinders = Math.min(Math.floor(sectors / (heads * 63)), 16383);
  return new Map([
    ["ddb.virtualHWVersion", hwversion],
    ["ddb.geometry.cylinders", String(cylinders)],
    ["ddb.geometry.heads", String(heads)],
    ["ddb.geometry.sectors", "63"],
    ["ddb.adapterType", adapter],
    ["ddb.toolsVersion", toolsVersion],
  ]);
}

const baseName = (name: string): string => name.slice(name.lastIndexOf("/") + 1);

/** An open VMDK image. */
export class VmdkImage implements DiskImage {
  readonly format = "vmdk";
  readonly blockSize = SECTOR;
  /** The descriptor file, or the sparse extent that embeds the descriptor. */
  readonly source: ByteSource;
  readonly readOnly: boolean;
  readonly descriptor: VmdkDescriptor;
  readonly backing: DiskImage | undefined;
  readonly size: number;
  private readonly extents: Extent[];
  /**
   * Where the descriptor lives: a text file (`source`), inside the sparse extent
   * in `source`, or nowhere (a lone extent of a multi-file image, opened alone).
   */
  private readonly descriptorIn: "file" | "extent" | "none";
  private cidUpdated = false;

  private constructor(init: {
    source: ByteSource;
    readOnly: boolean;
    descriptor: VmdkDescriptor;
    extents: Extent[];
    descriptorIn: "file" | "extent" | "none";
    backing?: DiskImage;
  }) {
    this.source = init.source;
    this.readOnly = init.readOnly;
    this.descriptor = init.descriptor;
    this.extents = init.extents;
    this.descriptorIn = init.descriptorIn;
    this.backing = init.backing;
    const last = init.extents[init.extents.length - 1];
    this.size = last ? last.start + last.size : 0;
  }

  static async open(source: ByteSource, options: OpenOptions = {}): Promise<VmdkImage> {
    let readOnly = options.readOnly === true || source.readOnly;
    const fileSize = await source.size();
    const head = new Uint8Array(Math.min(fileSize, SECTOR));
    await source.read(0, head);
    let descriptor: VmdkDescriptor;
    let extents: Extent[];
    let descriptorIn: "file" | "extent" | "none" = "file";
    const opened: ByteSource[] = [];
    try {
      if (head.length >= 4 && readU32LE(head, 0) === SPARSE_MAGICNUMBER) {
        const sparse = await SparseExtent.open(source, readOnly);
        const { descriptorOffset, descriptorSize } = sparse.header;
        const description: ExtentDescription = {
          access: "RW",
          sectors: sparse.header.capacity,
          type: "SPARSE",
          filename: baseName(source.name),
          offset: 0,
        };
        const text =
          descriptorOffset > 0 && descriptorSize > 0
            ? await readText(source, descriptorOffset * SECTOR, descriptorSize * SECTOR)
            : "";
        if (text.trim() !== "") {
          descriptor = parseDescriptor(text);
          descriptorIn = "extent";
        } else {
          // A lone extent of a multi-file image (its descriptor area, if any, is empty).
          descriptorIn = "none";
          descriptor = {
            version: 1,
            cid: 0,
            parentCid: CID_NOPARENT,
            createType: "monolithicSparse",
            extents: [description],
            ddb: new Map(),
          };
        }
        extents = [{ description, start: 0, size: sparse.size, sparse }];
      } else {
        if (fileSize > MAX_DESCRIPTOR_SIZE) throw new CorruptDataError(`${source.name}: not a VMDK image`);
        const text = await readText(source, 0, fileSize);
        if (!looksLikeDescriptor(text)) throw new CorruptDataError(`${source.name}: not a VMDK image`);
        descriptor = parseDescriptor(text);
        const opener = extentOpener(source, options);
        if (opener.readOnly) readOnly = true;
        extents = await openExtents(source, descriptor, readOnly, opener.open, opened);
      }
      let backing: DiskImage | undefined;
      const hint = descriptor.parentFileNameHint;
      if (hint !== undefined && !options.noBacking) {
        if (!options.openBacking) {
          throw new InvalidArgumentError(
            `${source.name} has a parent (${hint}): opening it needs openBacking or noBacking`,
          );
        }
        backing = await options.openBacking(hint, "vmdk", source.name);
      }
      return new VmdkImage({ source, readOnly, descriptor, extents, descriptorIn, backing });
    } catch (e) {
      for (const s of opened) await s.close();
      throw e;
    }
  }

  /**
   * Creates an image. `options.options`: `subformat` (monolithicSparse, the
   * default, monolithicFlat or streamOptimized), `adapter_type` (ide,
   * lsilogic, buslogic, legacyESX), `hwversion` (default 4) or `compat6=on`
   * (hwversion 6), `toolsversion` (default 2147483647, as qemu-img) and
   * `zeroed_grain=on` (monolithicSparse: all-zero grains become zeroed-grain
   * entries, version 2). monolithicFlat
   * needs `openSibling` to create its "-flat" extent file; a `backingFile`
   * (a VMDK, opened with `openBacking`) needs a sparse subformat.
   */
  static async create(source: ByteSource, options: CreateOptions): Promise<VmdkImage> {
    const opts = options.options ?? {};
    for (const key of Object.keys(opts)) {
      if (!CREATE_OPTIONS.includes(key)) {
        throw new InvalidArgumentError(`unknown VMDK option '${key}'`);
      }
    }
    const subformat = opts.subformat ?? "monolithicSparse";
    if (!(SUBFORMATS as readonly string[]).includes(subformat)) {
      throw new InvalidArgumentError(
        `VMDK subformat '${subformat}': expected one of ${SUBFORMATS.join(", ")}`,
      );
    }
    const adapter = opts.adapter_type ?? "ide";
    if (!ADAPTER_TYPES.includes(adapter))
      throw new InvalidArgumentError(`VMDK adapter_type '${adapter}' is not known`);
    const compat6 = parseBool(opts.compat6 ?? "off", "compat6");
    if (compat6 && opts.hwversion !== undefined) {
      throw new InvalidArgumentError("VMDK options compat6 and hwversion exclude each other");
    }
    const hwversion = compat6 ? "6" : (opts.hwversion ?? "4");
    if (!/^\d+$/.test(hwversion))
      throw new InvalidArgumentError(`VMDK hwversion '${hwversion}' is not a number`);
    const toolsVersion = opts.toolsversion ?? "2147483647";
    if (!/^\d+$/.test(toolsVersion))
      throw new InvalidArgumentError(`VMDK toolsversion '${toolsVersion}' is not a number`);
    const zeroedGrain = parseBool(opts.zeroed_grain ?? "off", "zeroed_grain");
    if (zeroedGrain && subformat !== "monolithicSparse") {
      throw new InvalidArgumentError("VMDK zeroed_grain needs subformat=monolithicSparse");
    }
    let parentCid = CID_NOPARENT;
    let parentSize: number | undefined;
    if (options.backingFile !== undefined) {
      if (subformat !== "monolithicSparse")
        throw new InvalidArgumentError(`a ${subformat} VMDK cannot have a parent`);
      if (!options.openBacking)
        throw new InvalidArgumentError("creating a VMDK with a parent needs openBacking");
      const parent = await options.openBacking(options.backingFile, options.backingFormat, source.name);
      const isVmdk = parent instanceof VmdkImage;
      parentCid = isVmdk ? parent.descriptor.cid : CID_NOPARENT;
      parentSize = parent.size;
      await parent.close();
      if (!isVmdk) throw new UnsupportedError(`the parent of a VMDK must be a VMDK, not ${parent.format}`);
    }
    const size = options.size ?? parentSize;
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
      throw new InvalidArgumentError("VMDK create needs a non-negative virtual size");
    }
    const sectors = Math.ceil(size / SECTOR);
    const name = baseName(source.name);
    const flatName = `${name.replace(/\.vmdk$/i, "")}-flat.vmdk`;
    const descriptor: VmdkDescriptor = {
      version: 1,
      cid: randomCid(),
      parentCid,
      createType: subformat,
      extents: [
        subformat === "monolithicFlat"
          ? { access: "RW", sectors, type: "FLAT", filename: flatName, offset: 0 }
          : { access: "RW", sectors, type: "SPARSE", filename: name, offset: 0 },
      ],
      ddb: ddbFor(sectors, adapter, hwversion, toolsVersion),
    };
    if (options.backingFile !== undefined) descriptor.parentFileNameHint = options.backingFile;
    const text = new TextEncoder().encode(formatDescriptor(descriptor));
    if (subformat === "monolithicFlat") {
      if (!options.openSibling)
        throw new InvalidArgumentError("creating a monolithicFlat VMDK needs openSibling");
      const flat = await options.openSibling(flatName, source.name, { create: true });
      await flat.truncate(sectors * SECTOR);
      await flat.close();
      await source.truncate(0);
      await source.write(0, text);
      await source.flush();
      return VmdkImage.open(source, { openSibling: options.openSibling, openBacking: options.openBacking });
    }
    if (text.length > EMBEDDED_DESCRIPTOR_SECTORS * SECTOR) {
      throw new InvalidArgumentError(
        "the VMDK descriptor (parent name) does not fit the embedded descriptor area",
      );
    }
    const embeddedText = new Uint8Array(EMBEDDED_DESCRIPTOR_SECTORS * SECTOR);
    embeddedText.set(text);
    const stream = subformat === "streamOptimized";
    await SparseExtent.create(
      source,
      {
        version: stream ? 3 : zeroedGrain ? 2 : 1,
        flags:
          FLAG_VALID_NEWLINE_DETECTION |
          (stream ? FLAG_COMPRESSED_GRAINS | FLAG_MARKERS : FLAG_REDUNDANT_GRAIN_TABLE) |
          (zeroedGrain ? FLAG_ZEROED_GRAIN_GTE : 0),
        capacity: sectors,
        grainSize: DEFAULT_GRAIN_SECTORS,
        descriptorOffset: 1,
        descriptorSize: EMBEDDED_DESCRIPTOR_SECTORS,
        numGTEsPerGT: 512,
        rgdOffset: 0,
        gdOffset: stream ? GD_AT_END : 0,
        overHead: 0,
        uncleanShutdown: 0,
        compressAlgorithm: stream ? COMPRESSION_DEFLATE : 0,
      },
      embeddedText,
    );
    await source.flush();
    return VmdkImage.open(source, { openBacking: options.openBacking });
  }

  /** Extents overlapping `[offset, offset + length)` with the overlapping byte range inside each. */
  private *pieces(
    offset: number,
    length: number,
  ): Generator<{ extent: Extent; at: number; pos: number; n: number }> {
    const end = offset + length;
    for (const extent of this.extents) {
      const from = Math.max(offset, extent.start);
      const to = Math.min(end, extent.start + extent.size);
      if (from < to) yield { extent, at: from - extent.start, pos: from - offset, n: to - from };
    }
  }

  async read(offset: number, dest: Uint8Array): Promise<void> {
    checkRange(this.size, offset, dest.length);
    for (const { extent, at, pos, n } of this.pieces(offset, dest.length)) {
      const part = dest.subarray(pos, pos + n);
      if (extent.sparse) {
        await extent.sparse.read(at, part, (o, d) => readBacking(this.backing, extent.start + o, d));
      } else if (extent.flat) {
        const got = await extent.flat.source.read(extent.flat.offset + at, part);
        if (got !== n)
          throw new CorruptDataError(`${extent.flat.source.name}: VMDK flat extent is truncated`);
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
    for (const { extent } of this.pieces(offset, src.length)) {
      if (extent.description.access !== "RW" || extent.description.type === "ZERO") {
        throw new ReadOnlyError(
          `${this.source.name}: extent '${extent.description.filename}' is not writable`,
        );
      }
    }
    if (!this.cidUpdated) await this.updateCid();
    for (const { extent, at, pos, n } of this.pieces(offset, src.length)) {
      const part = src.subarray(pos, pos + n);
      if (extent.sparse) {
        await extent.sparse.write(
          at,
          part,
          (o, d) => readBacking(this.backing, extent.start + o, d),
          this.backing !== undefined,
        );
      } else if (extent.flat) {
        await extent.flat.source.write(extent.flat.offset + at, part);
      }
    }
  }

  /** Gives the disk a new CID before its content first changes (spec: "CID"). */
  private async updateCid(): Promise<void> {
    this.cidUpdated = true;
    if (this.descriptorIn === "none") return;
    this.descriptor.cid = randomCid();
    const text = new TextEncoder().encode(formatDescriptor(this.descriptor));
    if (this.descriptorIn === "file") {
      // Overwrite, then cut: the file is never left empty.
      await this.source.write(0, text);
      await this.source.truncate(text.length);
      return;
    }
    const { descriptorOffset, descriptorSize } = (this.extents[0].sparse as SparseExtent).header;
    // Leave the old descriptor (and CID) alone if the new one does not fit.
    if (text.length > descriptorSize * SECTOR) return;
    const area = new Uint8Array(descriptorSize * SECTOR);
    area.set(text);
    await this.source.write(descriptorOffset * SECTOR, area);
  }

  flush(): Promise<void> {
    return this.queue.run(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    if (this.readOnly) return;
    for (const e of this.extents) {
      if (e.sparse) {
        await e.sparse.flush();
        await e.sparse.source.flush();
      } else if (e.flat) {
        await e.flat.source.flush();
      }
    }
    await this.source.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    const sources = new Set<ByteSource>([this.source]);
    for (const e of this.extents) sources.add(e.sparse?.source ?? e.flat?.source ?? this.source);
    for (const s of sources) await s.close();
    await this.backing?.close();
  }

  async info(): Promise<ImageInfo> {
    const firstSparse = this.extents.find((e) => e.sparse)?.sparse;
    const info: ImageInfo = { filename: this.source.name, format: this.format, "virtual-size": this.size };
    if (firstSparse) info["cluster-size"] = firstSparse.grainBytes;
    if (this.descriptor.parentFileNameHint !== undefined) {
      info["backing-filename"] = this.descriptor.parentFileNameHint;
      if (this.backing) info["full-backing-filename"] = this.backing.source.name;
      info["backing-filename-format"] = "vmdk";
    }
    info["format-specific"] = {
      type: "vmdk",
      data: {
        cid: this.descriptor.cid,
        "parent-cid": this.descriptor.parentCid,
        "create-type": this.descriptor.createType,
        extents: this.extents.map((e) => ({
          ...(e.sparse?.compressed ? { compressed: true } : {}),
          "virtual-size": e.size,
          filename: e.sparse?.source.name ?? e.flat?.source.name ?? e.description.filename,
          ...(e.sparse ? { "cluster-size": e.sparse.grainBytes } : {}),
          // qemu names the extent type, except for the extent that embeds the descriptor.
          format: this.descriptorIn === "file" ? e.description.type : "",
        })),
      },
    };
    info["dirty-flag"] = false;
    return info;
  }

  async blockStatus(offset: number, length: number): Promise<MapExtent[]> {
    checkRange(this.size, offset, length);
    const out: MapExtent[] = [];
    for (const { extent, at, pos, n } of this.pieces(offset, length)) {
      const shift = offset + pos - at;
      if (extent.sparse) {
        for (const e of await extent.sparse.status(at, n)) {
          // Without a parent, unallocated grains read as zeroes.
          out.push({ ...e, start: e.start + shift, zero: e.zero || (!e.data && !this.backing) });
        }
      } else if (extent.flat) {
        out.push({
          start: offset + pos,
          length: n,
          depth: 0,
          present: true,
          zero: false,
          data: true,
          offset: extent.flat.offset + at,
        });
      } else {
        out.push({ start: offset + pos, length: n, depth: 0, present: true, zero: true, data: false });
      }
    }
    return mergeExtents(out);
  }

  /** Checks that every grain of every sparse extent lies inside its file. */
  async check(): Promise<CheckResult> {
    let corruptions = 0;
    for (const e of this.extents) if (e.sparse) corruptions += await e.sparse.check();
    // Fields as qemu-img check prints them for VMDK: corruptions only when there are some.
    const result: CheckResult = { filename: this.source.name, format: this.format, "check-errors": 0 };
    if (corruptions > 0) result.corruptions = corruptions;
    return result;
  }
}

/** Reads a descriptor's text (up to its first NUL). */
async function readText(source: ByteSource, offset: number, length: number): Promise<string> {
  if (length > MAX_DESCRIPTOR_SIZE)
    throw new CorruptDataError(`${source.name}: VMDK descriptor of ${length} bytes is too large`);
  const buf = await readExact(source, offset, length, "VMDK descriptor");
  const nul = buf.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? buf.subarray(0, nul) : buf);
}

/** Opens an extent file, read-only when asked. */
type ExtentOpener = (name: string, readOnly: boolean) => Promise<ByteSource>;

/**
 * How extent files open: through `openSibling`; without it, read-only through
 * `openBacking` as raw images (their byte source is the extent file).
 */
function extentOpener(source: ByteSource, options: OpenOptions): { open?: ExtentOpener; readOnly: boolean } {
  const { openSibling, openBacking } = options;
  if (openSibling)
    return { open: (name, readOnly) => openSibling(name, source.name, { readOnly }), readOnly: false };
  if (openBacking)
    return { open: async (name) => (await openBacking(name, "raw", source.name)).source, readOnly: true };
  return { readOnly: false };
}

async function openExtents(
  source: ByteSource,
  descriptor: VmdkDescriptor,
  readOnly: boolean,
  openFile: ExtentOpener | undefined,
  opened: ByteSource[],
): Promise<Extent[]> {
  if (descriptor.extents.length === 0)
    throw new CorruptDataError(`${source.name}: VMDK descriptor lists no extents`);
  const extents: Extent[] = [];
  let start = 0;
  for (const d of descriptor.extents) {
    const size = d.sectors * SECTOR;
    if (!Number.isSafeInteger(start + size))
      throw new CorruptDataError(`${source.name}: VMDK extents are too large`);
    if (d.access === "NOACCESS")
      throw new UnsupportedError(`${source.name}: NOACCESS extents are not supported`);
    const extentReadOnly = readOnly || d.access === "RDONLY";
    if (d.type === "ZERO") {
      extents.push({ description: d, start, size });
    } else if (d.type === "FLAT" || d.type === "SPARSE") {
      if (!openFile) {
        throw new InvalidArgumentError(
          `${source.name}: opening its extent files needs openSibling or openBacking`,
        );
      }
      const file = await openFile(d.filename, extentReadOnly);
      opened.push(file);
      if (d.type === "FLAT") {
        extents.push({ description: d, start, size, flat: { source: file, offset: d.offset * SECTOR } });
      } else {
        const sparse = await SparseExtent.open(file, extentReadOnly);
        if (sparse.size < size)
          throw new CorruptDataError(`${file.name}: sparse extent is smaller than its description`);
        extents.push({ description: d, start, size, sparse });
      }
    } else {
      throw new UnsupportedError(`${source.name}: VMDK extent type ${d.type} is not supported`);
    }
    start += size;
  }
  return extents;
}

/** The `vmdk` format driver. */
export const vmdkFormat: DiskFormat = {
  name: "vmdk",
  probe(header: Uint8Array): number {
    if (header.length >= 4 && readU32LE(header, 0) === SPARSE_MAGICNUMBER) return 100;
    const text = new TextDecoder().decode(header.subarray(0, Math.min(header.length, 4096)));
    return looksLikeDescriptor(text) ? 100 : 0;
  },
  open: (source, options) => VmdkImage.open(source, options),
  create: (source, options) => VmdkImage.create(source, options),
};
