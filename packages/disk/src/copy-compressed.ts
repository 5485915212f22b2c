/**
 * Compressed copy, the engine of `convert -c`: whole destination clusters,
 * each written through the destination's `writeCompressed` unless every byte
 * of it reads as zero.
 */
import type { CopyOptions, CopyResult } from "./copy.js";
import { isZero } from "./ranges.js";
import type { DiskImage, MapExtent } from "./types.js";

/** Copies `src` through `writeCompressed`, one destination cluster at a time. */
export async function copyCompressed(
  src: DiskImage,
  writeCompressed: (offset: number, bytes: Uint8Array) => Promise<void>,
  total: number,
  cluster: number,
  status: (pos: number, span: number) => Promise<MapExtent[]>,
  result: CopyResult,
  options: CopyOptions,
): Promise<CopyResult> {
  const buf = new Uint8Array(cluster);
  const span = 64 * cluster;
  for (let pos = 0; pos < total; pos += span) {
    const end = Math.min(total, pos + span);
    const extents = (await status(pos, end - pos)).filter((e) => e.data);
    for (let c = pos; c < end; c += cluster) {
      const n = Math.min(cluster, end - c);
      const part = buf.subarray(0, n);
      if (extents.some((e) => e.start < c + n && e.start + e.length > c)) {
        await src.read(c, part);
        if (!isZero(part)) {
          result.written += n;
          await writeCompressed(c, part);
        } else result.zeroed += n;
      } else result.zeroed += n;
      options.onProgress?.(c + n, total);
    }
  }
  return result;
}
