/**
 * Compressed copy, the engine of `convert -c`: whole destination clusters,
 * each written through the destination's `writeCompressed` unless every byte
 * of it reads as zero.
 *
 * Several clusters are in flight at once (a bounded window, in order), so a
 * destination that compresses outside its lock — on other threads — keeps
 * them busy while the source is read. Each cluster gets its own buffer that
 * is not touched again, progress is reported in order as clusters complete,
 * and the first failure stops the copy once everything started has settled.
 */
import type { CopyOptions, CopyResult } from "./copy.js";
import { isZero } from "./ranges.js";
import type { DiskImage, MapExtent } from "./types.js";

/** Bytes of clusters in flight at most (at least two clusters, at most 16). */
const WINDOW_BYTES = 8 << 20;
/** Bytes read from the source at once, when its data is contiguous. */
const READ_BYTES = 1 << 20;

/** Copies `src` through `writeCompressed`, one destination cluster at a time, several in flight. */
export async function copyCompressed(
  src: DiskImage,
  writeCompressed: (offset: number, bytes: Uint8Array) => Promise<void>,
  total: number,
  cluster: number,
  status: (pos: number, span: number) => Promise<MapExtent[]>,
  result: CopyResult,
  options: CopyOptions,
): Promise<CopyResult> {
  const depth = Math.max(2, Math.min(16, Math.floor(WINDOW_BYTES / cluster)));
  const perRead = Math.max(1, Math.floor(READ_BYTES / cluster));
  const inFlight: { done: Promise<void>; end: number }[] = [];
  let failure: { error: unknown } | undefined;
  /** Waits for the oldest cluster in flight and reports progress up to its end. */
  const retire = async () => {
    const oldest = inFlight.shift();
    if (!oldest) return;
    try {
      await oldest.done;
    } catch (error) {
      failure ??= { error };
    }
    if (!failure) options.onProgress?.(oldest.end, total);
  };
  const enqueue = async (done: Promise<void>, end: number) => {
    // The first failure stops new writes at once (and is not an unhandled rejection while it waits for retire()).
    done.catch((error) => {
      failure ??= { error };
    });
    inFlight.push({ done, end });
    while (inFlight.length >= depth && !failure) await retire();
  };

  const write = (off: number, part: Uint8Array): Promise<void> => {
    try {
      return writeCompressed(off, part);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const span = 64 * cluster;
  const copyRuns = async () => {
    for (let pos = 0; pos < total && !failure; pos += span) {
      const end = Math.min(total, pos + span);
      const extents = (await status(pos, end - pos)).filter((e) => e.data);
      const hasData = (c: number) => {
        const n = Math.min(cluster, end - c);
        return extents.some((e) => e.start < c + n && e.start + e.length > c);
      };
      for (let c = pos; c < end && !failure; ) {
        if (!hasData(c)) {
          const n = Math.min(cluster, end - c);
          result.zeroed += n;
          await enqueue(Promise.resolve(), c + n);
          c += n;
          continue;
        }
        // One read for a run of clusters with data; each cluster then owns its slice.
        let runEnd = c;
        while (runEnd < end && runEnd - c < perRead * cluster && hasData(runEnd))
          runEnd = Math.min(end, runEnd + cluster);
        const buf = new Uint8Array(runEnd - c);
        await src.read(c, buf);
        for (let at = 0; at < buf.length && !failure; at += cluster) {
          const part = buf.subarray(at, Math.min(buf.length, at + cluster));
          const off = c + at;
          if (isZero(part)) {
            result.zeroed += part.length;
            await enqueue(Promise.resolve(), off + part.length);
          } else {
            result.written += part.length;
            await enqueue(write(off, part), off + part.length);
          }
        }
        c = runEnd;
      }
    }
  };

  try {
    await copyRuns();
  } catch (error) {
    failure ??= { error };
  }
  while (inFlight.length > 0) await retire();
  if (failure) throw failure.error;
  return result;
}
