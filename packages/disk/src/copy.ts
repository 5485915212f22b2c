/**
 * Sparse copy between images, the engine of `convert` and `commit`: walks the
 * source's allocation map (`blockStatus`) and copies only ranges that hold
 * data, skipping zero and unallocated ranges, and — like qemu-img's `-S` —
 * zero runs of at least `sparseSize` bytes found inside data.
 */
import { type BlockBackend, UnsupportedError } from "@backplane/core";
import { chainBlockStatus } from "./chain.js";
import { copyCompressed } from "./copy-compressed.js";
import { isZero } from "./ranges.js";
import type { DiskImage, MapExtent } from "./types.js";

/** Options for {@link copyImage}. */
export interface CopyOptions {
  /**
   * `chain` (default): copy what the source reads as, backing chain included;
   * `top`: copy only ranges the top image itself allocates (for `commit`).
   */
  ranges?: "chain" | "top";
  /** The destination already reads as zeroes (a fresh image): zero ranges are skipped, not written. Default true. */
  targetIsZero?: boolean;
  /** Zero runs of at least this many bytes inside data are not written (qemu-img `-S`; 0 = write everything). Default 4096. */
  sparseSize?: number;
  /** Write through `writeCompressed` in chunks of this many bytes (the destination's cluster size). */
  compressChunk?: number;
  /** Bytes per read. Default 2 MiB. */
  bufferSize?: number;
  /** Called after every chunk with bytes done and total. */
  onProgress?(done: number, total: number): void;
}

/** Copy statistics. */
export interface CopyResult {
  /** Bytes written as data. */
  written: number;
  /** Bytes skipped or written as zeroes. */
  zeroed: number;
}

/** Copies the virtual disk of `src` into `dst` (over `min(src.size, dst.size)` bytes). */
export async function copyImage(
  src: DiskImage,
  dst: BlockBackend & Partial<DiskImage>,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const total = Math.min(src.size, dst.size);
  const chunk = options.bufferSize ?? 2 << 20;
  const sparse = options.sparseSize ?? 4096;
  const targetIsZero = options.targetIsZero ?? true;
  const result: CopyResult = { written: 0, zeroed: 0 };

  const zero = async (offset: number, length: number) => {
    result.zeroed += length;
    if (targetIsZero) return;
    if (dst.writeZeroes) await dst.writeZeroes(offset, length);
    else
      for (let p = 0; p < length; p += chunk)
        await dst.write(offset + p, new Uint8Array(Math.min(chunk, length - p)));
  };
  const data = async (offset: number, bytes: Uint8Array) => {
    const emit = async (from: number, to: number, zeroRun: boolean) => {
      if (zeroRun) return zero(offset + from, to - from);
      result.written += to - from;
      await dst.write(offset + from, bytes.subarray(from, to));
    };
    if (sparse <= 0) return emit(0, bytes.length, false);
    let runStart = 0;
    let runZero = isZero(bytes.subarray(0, sparse));
    for (let p = sparse; p < bytes.length; p += sparse) {
      const z = isZero(bytes.subarray(p, p + sparse));
      if (z !== runZero) {
        await emit(runStart, p, runZero);
        runStart = p;
        runZero = z;
      }
    }
    await emit(runStart, bytes.length, runZero);
  };
  const status = (pos: number, span: number): Promise<MapExtent[]> =>
    options.ranges === "top" ? src.blockStatus(pos, span) : chainBlockStatus(src, pos, span);

  if (options.compressChunk) {
    if (!dst.writeCompressed)
      throw new UnsupportedError("the destination format does not support compression");
    return copyCompressed(
      src,
      dst.writeCompressed.bind(dst),
      total,
      options.compressChunk,
      status,
      result,
      options,
    );
  }

  // Reads of the next chunk overlap the write of the previous one (two buffers,
  // one write in flight). Not for `top` copies, where source and destination
  // are one chain.
  const overlap = options.ranges !== "top";
  const buffers = [new Uint8Array(chunk), new Uint8Array(chunk)];
  let which = 0;
  let pending: Promise<void> = Promise.resolve();
  let done = 0;
  for (let pos = 0; pos < total; ) {
    const span = Math.min(total - pos, 64 * chunk);
    for (const e of await status(pos, span)) {
      for (let off = e.start; off < e.start + e.length; ) {
        const n = Math.min(chunk, e.start + e.length - off);
        if (e.data) {
          const part = buffers[which].subarray(0, n);
          which ^= 1;
          await src.read(off, part);
          await pending;
          pending = data(off, part);
          // Handled here so a failure waits for the next `await pending` instead of being reported as unhandled.
          pending.catch(() => {});
          if (!overlap) await pending;
        } else if (e.zero) {
          await pending;
          await zero(off, n);
        }
        off += n;
        done += n;
        options.onProgress?.(done, total);
      }
    }
    pos += span;
  }
  await pending;
  return result;
}
