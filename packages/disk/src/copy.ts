/**
 * Sparse copy between images, the engine of `convert` and `commit`: walks the
 * source's allocation map (`blockStatus`) and copies only ranges that hold
 * data, skipping zero and unallocated ranges, and — like qemu-img's `-S` —
 * zero runs of at least `sparseSize` bytes found inside data. With
 * `compressChunk` (`convert -c`) data goes through the destination's
 * `writeCompressed` one whole cluster at a time, and clusters that read as
 * zero are treated as zero ranges.
 *
 * Up to `depth` chunks are in flight: read at once, their writes issued in
 * disk order (allocating formats then lay clusters out sequentially, as
 * qemu-img does without -W) as soon as the read is done, without waiting for
 * earlier writes to finish, so a destination that writes or compresses
 * outside its lock keeps several requests busy. Progress is reported in disk
 * order. The first failure stops new writes; the copy rejects once everything
 * started has settled.
 */
import { type BlockBackend, UnsupportedError } from "@backplane/core";
import { chainBlockStatus } from "./chain.js";
import { isZero, zeroRuns } from "./ranges.js";
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
  /** Bytes per read. Default 2 MiB (1 MiB, whole clusters, when compressing). */
  bufferSize?: number;
  /** Chunks in flight at once (the destination is still written in order). Default 4 (8 MiB of clusters when compressing). */
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
  const cluster = options.compressChunk;
  const writeCompressed = dst.writeCompressed?.bind(dst);
  if (cluster && !writeCompressed)
    throw new UnsupportedError("the destination format does not support compression");
  const chunk = cluster
    ? cluster * Math.max(1, Math.floor((options.bufferSize ?? 1 << 20) / cluster))
    : (options.bufferSize ?? 2 << 20);
  const sparse = options.sparseSize ?? 4096;
  const targetIsZero = options.targetIsZero ?? true;
  const result: CopyResult = { written: 0, zeroed: 0 };
  const status = async (pos: number, span: number): Promise<MapExtent[]> => {
    const extents =
      options.ranges === "top" ? await src.blockStatus(pos, span) : await chainBlockStatus(src, pos, span);
    return cluster ? wholeClusters(extents, cluster, pos + span) : extents;
  };

  let failure: { error: unknown } | undefined;
  /** Issues one destination request; its failure stops every later one. */
  const request = (issue: () => Promise<unknown>): Promise<unknown> => {
    if (failure) return Promise.reject(failure.error);
    let p: Promise<unknown>;
    try {
      p = issue();
    } catch (error) {
      p = Promise.reject(error);
    }
    p.catch((error) => {
      failure ??= { error };
    });
    return p;
  };

  // Each function below issues its destination requests at once, in order,
  // and returns a promise of their completion.
  const zero = (offset: number, length: number): Promise<unknown> => {
    result.zeroed += length;
    if (targetIsZero) return Promise.resolve();
    const { writeZeroes } = dst;
    if (writeZeroes) return request(() => writeZeroes.call(dst, offset, length));
    const writes: Promise<unknown>[] = [];
    for (let p = 0; p < length; p += chunk) {
      const n = Math.min(chunk, length - p);
      writes.push(request(() => dst.write(offset + p, new Uint8Array(n))));
    }
    return settled(writes);
  };
  const data = (offset: number, bytes: Uint8Array): Promise<unknown> => {
    const writes: Promise<unknown>[] = [];
    if (cluster && writeCompressed) {
      for (let at = 0; at < bytes.length; at += cluster) {
        const part = bytes.subarray(at, at + cluster);
        if (isZero(part)) writes.push(zero(offset + at, part.length));
        else {
          result.written += part.length;
          writes.push(request(() => writeCompressed(offset + at, part)));
        }
      }
      return settled(writes);
    }
    const runs = sparse > 0 ? zeroRuns(bytes, sparse) : [{ start: 0, end: bytes.length, zero: false }];
    for (const r of runs) {
      if (r.zero) writes.push(zero(offset + r.start, r.end - r.start));
      else {
        result.written += r.end - r.start;
        writes.push(request(() => dst.write(offset + r.start, bytes.subarray(r.start, r.end))));
      }
    }
    return settled(writes);
  };

  // Not for `top` copies, where source and destination are one chain.
  const depth =
    options.ranges === "top"
      ? 1
      : Math.max(1, options.depth ?? (cluster ? Math.max(2, Math.floor((8 << 20) / chunk)) : 4));
  const free: Uint8Array[] = [];
  /** Each step's writes finishing (`finished`) and its progress report, in disk order (`reported`). */
  const inFlight: { finished: Promise<unknown>; reported: Promise<void> }[] = [];
  /** Settles once the previous chunk's writes have been issued (an object, so as not to wait for them). */
  let issued: Promise<{ done: Promise<unknown> } | undefined> = Promise.resolve(undefined);
  let reported: Promise<void> = Promise.resolve();
  let done = 0;
  const step = (n: number, ready: Promise<unknown>, issue: () => Promise<unknown>, after?: () => void) => {
    ready.catch(() => {}); // awaited below, possibly after it failed
    const started = issued.then(() => ready).then(() => ({ done: issue() }));
    issued = started;
    const finished = started.then((s) => s.done).then(after);
    finished.catch((error) => {
      failure ??= { error };
    });
    reported = reported
      .then(() => finished)
      .then(() => {
        done += n;
        options.onProgress?.(done, total);
      });
    // A failure is reported by the `await` that reaches it, not as an unhandled rejection.
    reported.catch(() => {});
    inFlight.push({ finished, reported });
  };
  try {
    for (let pos = 0; pos < total && !failure; ) {
      const span = Math.min(total - pos, 64 * chunk);
      for (const e of await status(pos, span)) {
        if (!e.data) {
          // Zero or unallocated ranges are one step however long (a 1 TiB empty disk is a few steps).
          while (inFlight.length >= depth) await inFlight.shift()?.reported;
          step(e.length, Promise.resolve(), () => (e.zero ? zero(e.start, e.length) : Promise.resolve()));
          continue;
        }
        for (let off = e.start; off < e.start + e.length && !failure; ) {
          const n = Math.min(chunk, e.start + e.length - off);
          while (inFlight.length >= depth) await inFlight.shift()?.reported;
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
  } catch (error) {
    failure ??= { error };
  }
  if (failure) {
    await Promise.allSettled(inFlight.map((s) => s.finished));
    throw failure.error;
  }
  return result;
}

/** Settles once every request has settled, rejecting with the first failure. */
async function settled(requests: Promise<unknown>[]): Promise<void> {
  for (const r of await Promise.allSettled(requests)) if (r.status === "rejected") throw r.reason;
}

/**
 * Widens the data extents of `[.., end)` to whole clusters (a cluster with
 * any data in it is read and written whole); the rest reads as zeroes.
 */
function wholeClusters(extents: MapExtent[], cluster: number, end: number): MapExtent[] {
  const out: MapExtent[] = [];
  const add = (start: number, stop: number, data: boolean) => {
    const last = out[out.length - 1];
    if (last && last.data === data && last.start + last.length === start) last.length = stop - last.start;
    else if (stop > start)
      out.push({ start, length: stop - start, depth: 0, data, zero: !data, present: true });
  };
  let pos = extents[0]?.start ?? end;
  for (const e of extents) {
    if (!e.data) continue;
    const start = Math.max(pos, Math.floor(e.start / cluster) * cluster);
    const stop = Math.min(end, Math.ceil((e.start + e.length) / cluster) * cluster);
    add(pos, start, false);
    add(start, stop, true);
    pos = Math.max(pos, stop);
  }
  add(pos, end, false);
  return out;
}
