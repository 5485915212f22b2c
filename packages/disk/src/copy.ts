/**
 * Sparse copy between images, the engine of `convert` and `commit`: walks the
 * source's allocation map (`blockStatus`) and copies only ranges that hold
 * data, skipping zero and unallocated ranges, and — like qemu-img's `-S` —
 * zero runs of at least `sparseSize` bytes found inside data.
 */
import { type BlockBackend, UnsupportedError } from "@backplane/core";
import { chainBlockStatus } from "./chain.js";
import { copyCompressed } from "./copy-compressed.js";
import { zeroRuns } from "./ranges.js";
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
  /** Reads in flight at once (the destination is still written in order). Default 4. */
  depth?: number;
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

  // Each function below issues its destination requests at once, in order,
  // and returns a promise of their completion.
  const zero = (offset: number, length: number): Promise<unknown> => {
    result.zeroed += length;
    if (targetIsZero) return Promise.resolve();
    if (dst.writeZeroes) return dst.writeZeroes(offset, length);
    const writes: Promise<void>[] = [];
    for (let p = 0; p < length; p += chunk)
      writes.push(dst.write(offset + p, new Uint8Array(Math.min(chunk, length - p))));
    return Promise.all(writes);
  };
  const data = (offset: number, bytes: Uint8Array): Promise<unknown> => {
    const runs = sparse > 0 ? zeroRuns(bytes, sparse) : [{ start: 0, end: bytes.length, zero: false }];
    return Promise.all(
      runs.map((r) => {
        if (r.zero) return zero(offset + r.start, r.end - r.start);
        result.written += r.end - r.start;
        return dst.write(offset + r.start, bytes.subarray(r.start, r.end));
      }),
    );
  };

  // Up to `depth` chunks are in flight: read at once, their writes issued in
  // disk order (allocating formats then lay clusters out sequentially, as
  // qemu-img does without -W) as soon as the read is done, without waiting
  // for earlier writes to finish. Progress is reported in disk order. Not
  // for `top` copies, where source and destination are one chain.
  const depth = options.ranges === "top" ? 1 : Math.max(1, options.depth ?? 4);
  const free: Uint8Array[] = [];
  const inFlight: Promise<void>[] = [];
  /** Settles once the previous chunk's writes have been issued (an object, so as not to wait for them). */
  let issued: Promise<{ done: Promise<unknown> } | undefined> = Promise.resolve(undefined);
  let reported: Promise<void> = Promise.resolve();
  let done = 0;
  const step = (n: number, ready: Promise<unknown>, issue: () => Promise<unknown>, after?: () => void) => {
    ready.catch(() => {}); // awaited below, possibly after it failed
    const started = issued.then(() => ready).then(() => ({ done: issue() }));
    issued = started;
    const finished = started.then((s) => s.done).then(after);
    finished.catch(() => {}); // after a failure the chain below no longer waits for it
    reported = reported
      .then(() => finished)
      .then(() => {
        done += n;
        options.onProgress?.(done, total);
      });
    // A failure is reported by the `await` that reaches it, not as an unhandled rejection.
    reported.catch(() => {});
    inFlight.push(reported);
  };
  for (let pos = 0; pos < total; ) {
    const span = Math.min(total - pos, 64 * chunk);
    for (const e of await status(pos, span)) {
      if (!e.data) {
        // Zero or unallocated ranges are one step however long (a 1 TiB empty disk is a few steps).
        while (inFlight.length >= depth) await inFlight.shift();
        step(e.length, Promise.resolve(), () => (e.zero ? zero(e.start, e.length) : Promise.resolve()));
        continue;
      }
      for (let off = e.start; off < e.start + e.length; ) {
        const n = Math.min(chunk, e.start + e.length - off);
        while (inFlight.length >= depth) await inFlight.shift();
        const buf = free.pop() ?? new Uint8Array(chunk);
        const part = buf.subarray(0, n);
        const at = off;
        step(
          n,
          src.read(at, part),
          () => data(at, part),
          () => free.push(buf),
        );
        off += n;
      }
    }
    pos += span;
  }
  await reported;
  return result;
}
