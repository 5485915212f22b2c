/**
 * Guest RAM and ROM: flat byte blocks with the typed-array views a CPU fast
 * path needs, plus per-4 KiB-page dirty tracking on RAM for snapshots and
 * live migration.
 *
 * Deviation: a block's size must be a multiple of 4 KiB (the dirty-page and
 * CPU page-table granule), which every real memory map satisfies.
 */
import { InvalidArgumentError } from "@backplane/core";

/** Dirty-tracking granule: 4 KiB pages. */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** A contiguous block of guest memory backed by one ArrayBuffer. */
export abstract class MemoryBlock {
  /** Size in bytes (a multiple of {@link PAGE_SIZE}). */
  readonly size: number;
  /** Byte view of the whole block. */
  readonly bytes: Uint8Array;
  /** DataView over the whole block, for little-endian access at any alignment. */
  readonly view: DataView;
  /** Aligned 32-bit view (index = offset >> 2), for the fastest word access. */
  readonly words: Int32Array;
  /** True for ROM: guest writes are ignored. */
  abstract readonly readOnly: boolean;

  protected constructor(size: number) {
    if (!Number.isInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
      throw new InvalidArgumentError(`memory size ${size} must be a positive multiple of ${PAGE_SIZE}`);
    }
    this.size = size;
    const buffer = new ArrayBuffer(size);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    this.words = new Int32Array(buffer);
  }
}

/** Guest RAM with optional dirty-page tracking. */
export class Ram extends MemoryBlock {
  readonly readOnly = false;
  /**
   * One byte per 4 KiB page, non-zero when the page was written since the last
   * {@link takeDirtyBitmap}; `null` while tracking is off. Fast-path writers
   * (a CPU writing through its TLB) set `dirty[offset >>> 12] = 1` themselves.
   */
  dirty: Uint8Array | null = null;

  constructor(size: number) {
    super(size);
  }

  /** Starts dirty tracking with every page clean. */
  enableDirtyTracking(): void {
    this.dirty = new Uint8Array(this.size >>> PAGE_SHIFT);
  }

  /** Stops dirty tracking. */
  disableDirtyTracking(): void {
    this.dirty = null;
  }

  /** Marks the pages covering `[offset, offset + length)` dirty (no-op while tracking is off). */
  markDirty(offset: number, length: number): void {
    const dirty = this.dirty;
    if (dirty === null || length <= 0) return;
    const last = (offset + length - 1) >>> PAGE_SHIFT;
    for (let page = offset >>> PAGE_SHIFT; page <= last; page++) dirty[page] = 1;
  }

  /**
   * Returns the dirty pages as a bitmap (bit `i % 32` of word `i >> 5` set when
   * page `i` was written) and marks every page clean.
   * Throws {@link InvalidArgumentError} when tracking is off.
   */
  takeDirtyBitmap(): Uint32Array {
    const dirty = this.dirty;
    if (dirty === null) throw new InvalidArgumentError("dirty tracking is not enabled");
    const bitmap = new Uint32Array((dirty.length + 31) >>> 5);
    for (let page = 0; page < dirty.length; page++) {
      if (dirty[page] !== 0) bitmap[page >>> 5] |= 1 << (page & 31);
    }
    dirty.fill(0);
    return bitmap;
  }
}

/** Read-only memory, filled from an image at construction; guest writes are ignored. */
export class Rom extends MemoryBlock {
  readonly readOnly = true;

  /** Creates a ROM of `size` bytes (rounded up to 4 KiB when omitted) holding `image`. */
  constructor(
    image: Uint8Array,
    size = Math.max(PAGE_SIZE, Math.ceil(image.length / PAGE_SIZE) * PAGE_SIZE),
  ) {
    super(size);
    if (image.length > size) {
      throw new InvalidArgumentError(`ROM image of ${image.length} bytes does not fit ${size} bytes`);
    }
    this.bytes.set(image);
  }
}
