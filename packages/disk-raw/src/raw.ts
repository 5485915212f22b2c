/**
 * Raw disk images: the virtual disk is the file, byte for byte (qemu's `raw`
 * driver, block/raw-format.c, over a plain file).
 *
 * `blockStatus` reports the holes of a sparse file as `data: false, zero: true`
 * and the rest as data, both at their file offset, like qemu's file driver
 * (block/file-posix.c, lseek(2) SEEK_DATA/SEEK_HOLE), when the byte source can
 * tell (`ByteSource.allocationMap`); otherwise everything is data. The virtual
 * size is the file size rounded up to whole sectors; the partial sector past
 * the end of the file reads as zeroes and maps as a hole, as in qemu.
 *
 * Deviation: discard writes zeroes instead of punching a hole (a `ByteSource`
 * has no fallocate(2) PUNCH_HOLE). `preallocation=falloc` is treated as `full`.
 */
import { InvalidArgumentError, ReadOnlyError, UnsupportedError } from "@backplane/core";
import type {
  ByteSource,
  CreateOptions,
  DiskFormat,
  DiskImage,
  ImageInfo,
  MapExtent,
  MeasureInput,
  MeasureResult,
  OpenOptions,
} from "@backplane/disk";
import { checkRange } from "@backplane/disk";

const SECTOR = 512;
/** Largest zero buffer written at once by writeZeroes/discard. */
const ZERO_CHUNK = 1 << 20;

/** An open raw image. */
export class RawImage implements DiskImage {
  readonly format = "raw";
  readonly source: ByteSource;
  readonly readOnly: boolean;
  readonly blockSize = SECTOR;
  readonly backing = undefined;
  #size: number;

  constructor(source: ByteSource, size: number, readOnly: boolean) {
    this.source = source;
    this.#size = size;
    this.readOnly = readOnly;
  }

  get size(): number {
    return this.#size;
  }

  async read(offset: number, dest: Uint8Array): Promise<void> {
    checkRange(this.#size, offset, dest.length);
    const n = await this.source.read(offset, dest);
    dest.fill(0, n);
  }

  async write(offset: number, src: Uint8Array): Promise<void> {
    this.#writable();
    checkRange(this.#size, offset, src.length);
    await this.source.write(offset, src);
  }

  async writeZeroes(offset: number, length: number): Promise<void> {
    this.#writable();
    checkRange(this.#size, offset, length);
    const zero = new Uint8Array(Math.min(length, ZERO_CHUNK));
    for (let pos = 0; pos < length; pos += zero.length) {
      await this.source.write(offset + pos, zero.subarray(0, Math.min(zero.length, length - pos)));
    }
  }

  discard(offset: number, length: number): Promise<void> {
    return this.writeZeroes(offset, length);
  }

  async flush(): Promise<void> {
    if (!this.readOnly) await this.source.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.source.close();
  }

  async info(): Promise<ImageInfo> {
    const info: ImageInfo = {
      filename: this.source.name,
      format: "raw",
      "virtual-size": this.#size,
      "dirty-flag": false,
    };
    const actual = await this.source.allocatedSize?.();
    if (actual !== undefined) info["actual-size"] = actual;
    return info;
  }

  async blockStatus(offset: number, length: number): Promise<MapExtent[]> {
    checkRange(this.#size, offset, length);
    if (length === 0) return [];
    const extents = (await this.source.allocationMap?.(offset, length)) ?? [
      { start: offset, length, data: true },
    ];
    return extents.map(({ start, length, data }) => ({
      start,
      length,
      depth: 0,
      present: true,
      data,
      zero: !data,
      offset: start,
    }));
  }

  async resize(size: number, options: { shrink?: boolean } = {}): Promise<void> {
    this.#writable();
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError(`invalid image size ${size}`);
    if (size < this.#size && !options.shrink) {
      throw new InvalidArgumentError("Use the --shrink option to perform a shrink operation.");
    }
    await this.source.truncate(size);
    this.#size = size;
  }

  #writable(): void {
    if (this.readOnly) throw new ReadOnlyError(`${this.source.name}: image is opened read-only`);
  }
}

/** The raw format driver. */
export const raw: DiskFormat = {
  name: "raw",
  probe: () => 1,

  async open(source: ByteSource, options: OpenOptions = {}): Promise<DiskImage> {
    return new RawImage(source, roundUp(await source.size()), options.readOnly ?? source.readOnly);
  },

  async create(source: ByteSource, options: CreateOptions): Promise<DiskImage> {
    if (options.backingFile !== undefined) {
      throw new UnsupportedError("raw images do not support backing files");
    }
    if (options.size === undefined) throw new InvalidArgumentError("Image creation needs a size parameter");
    const prealloc = parseOptions(options.options ?? {});
    const size = roundUp(options.size);
    await source.truncate(0);
    await source.truncate(size);
    const image = new RawImage(source, size, false);
    if (prealloc) await image.writeZeroes(0, size);
    return image;
  },

  measure(input: MeasureInput): MeasureResult {
    parseOptions(input.options ?? {});
    const size = roundUp(input.size);
    return { required: size, "fully-allocated": size };
  },
};

/** Validates raw's `-o` options; returns true when the file must be preallocated. */
function parseOptions(options: Record<string, string>): boolean {
  let prealloc = false;
  for (const [key, value] of Object.entries(options)) {
    if (key !== "preallocation") throw new InvalidArgumentError(`Invalid parameter '${key}'`);
    if (!["off", "falloc", "full"].includes(value)) {
      throw new InvalidArgumentError(`Invalid preallocation mode: '${value}'`);
    }
    prealloc = value !== "off";
  }
  return prealloc;
}

function roundUp(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError(`invalid image size ${size}`);
  return Math.ceil(size / SECTOR) * SECTOR;
}
