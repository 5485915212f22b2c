/**
 * Backing chains: a `BackingOpener` that resolves backing-file names to byte
 * sources, opens them through a registry, refuses loops and over-deep chains,
 * and a chain-wide allocation map (what `qemu-img map` prints: each range with
 * the depth of the image its data comes from).
 *
 * Drivers do the read fall-through themselves: a read of a range that is
 * unallocated in the image goes to `image.backing` (zeroes past its end, or
 * without a backing image).
 */
import { NotFoundError } from "@backplane/core";
import { BackingChainError } from "./errors.js";
import { defaultRegistry, type FormatRegistry } from "./registry.js";
import type { BackingOpener, ByteSource, DiskImage, MapExtent, SiblingOpener } from "./types.js";

/** A resolved backing file: its source and an identity for loop detection (a canonical path). */
export interface ResolvedSource {
  source: ByteSource;
  /** Same key = same file. */
  key: string;
}

/** Turns a backing-file reference into a byte source (`relativeTo` is the referring image's name). */
export type SourceResolver = (name: string, relativeTo: string, readOnly: boolean) => Promise<ResolvedSource>;

/** Options for {@link chainOpener}. */
export interface ChainOpenerOptions {
  registry?: FormatRegistry;
  /** Open the direct backing image writable (only `commit` needs this); deeper images stay read-only. Default: read-only. */
  writable?: boolean;
  /** Maximum number of backing images below the top one. Default 64. */
  maxDepth?: number;
  /** Opens the other files of multi-file backing images (VMDK extents). */
  openSibling?: SiblingOpener;
  /** Keys of the images above (the top image's key first). */
  chain?: readonly string[];
}

/** Default limit on backing-chain length. */
export const MAX_CHAIN_DEPTH = 64;

/** A `BackingOpener` that opens each backing image (and its own backing chain) via `resolve`. */
export function chainOpener(resolve: SourceResolver, options: ChainOpenerOptions = {}): BackingOpener {
  const registry = options.registry ?? defaultRegistry;
  const maxDepth = options.maxDepth ?? MAX_CHAIN_DEPTH;
  const chain = options.chain ?? [];
  return async (name, format, relativeTo) => {
    if (chain.length > maxDepth) {
      throw new BackingChainError(`backing chain of '${chain[0]}' is deeper than ${maxDepth} images`);
    }
    const { source, key } = await resolve(name, relativeTo, !options.writable).catch((err: unknown) => {
      throw err instanceof NotFoundError
        ? new NotFoundError(`Could not open backing file: ${err.message}`, { cause: err })
        : err;
    });
    try {
      if (chain.includes(key)) {
        throw new BackingChainError(
          `backing file '${name}' of '${relativeTo}' forms a loop in the backing chain`,
        );
      }
      return await registry.open(source, {
        format,
        readOnly: !options.writable,
        openSibling: options.openSibling,
        openBacking: chainOpener(resolve, { ...options, writable: false, chain: [...chain, key] }),
      });
    } catch (err) {
      await source.close();
      throw err;
    }
  };
}

/** The images of a chain, top first. */
export function chainImages(image: DiskImage): DiskImage[] {
  const out: DiskImage[] = [];
  for (let i: DiskImage | undefined = image; i; i = i.backing) out.push(i);
  return out;
}

/**
 * Allocation map of `[offset, offset + length)` over the whole chain: ranges
 * unallocated in an image are looked up in its backing image (depth + 1);
 * ranges beyond every image's data read as zeroes (`data: false, zero: true`
 * at the depth where the lookup ended). Adjacent equal runs are merged.
 */
export async function chainBlockStatus(
  image: DiskImage,
  offset: number,
  length: number,
): Promise<MapExtent[]> {
  const out: MapExtent[] = [];
  await statusAt(image, 0, offset, length, out);
  return mergeExtents(out);
}

async function statusAt(
  image: DiskImage,
  depth: number,
  offset: number,
  length: number,
  out: MapExtent[],
): Promise<void> {
  const inside = Math.max(0, Math.min(length, image.size - offset));
  if (inside > 0) {
    for (const e of await image.blockStatus(offset, inside)) {
      if (!e.data && !e.zero && image.backing) {
        await statusAt(image.backing, depth + 1, e.start, e.length, out);
      } else {
        out.push({
          ...e,
          depth: depth + e.depth,
          zero: e.zero || !e.data,
          present: e.present ?? (e.data || e.zero),
        });
      }
    }
  }
  if (inside < length) {
    out.push({
      start: offset + inside,
      length: length - inside,
      depth,
      present: false,
      data: false,
      zero: true,
    });
  }
}

/** Merges adjacent extents that agree on everything but position (host offsets must be contiguous). */
export function mergeExtents(extents: readonly MapExtent[]): MapExtent[] {
  const out: MapExtent[] = [];
  for (const e of extents) {
    const last = out[out.length - 1];
    if (
      last &&
      last.start + last.length === e.start &&
      last.depth === e.depth &&
      last.data === e.data &&
      last.zero === e.zero &&
      last.present === e.present &&
      last.compressed === e.compressed &&
      (last.offset === undefined) === (e.offset === undefined) &&
      (last.offset === undefined || last.offset + last.length === e.offset)
    ) {
      last.length += e.length;
    } else {
      out.push({ ...e });
    }
  }
  return out;
}
