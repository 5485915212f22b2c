/**
 * Small I/O helpers for format drivers: exact structure reads that turn a
 * truncated file into a typed error, reads that fall through to a backing
 * image (zeroes past its end), and random UUIDs for image identifiers.
 */
import { CorruptDataError } from "@backplane/core";
import type { ByteSource, DiskImage } from "./types.js";

/** Reads exactly `length` bytes at `offset`; a short read (structure `what` runs past the end of the file) is a CorruptDataError. */
export async function readExact(
  source: ByteSource,
  offset: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  const n = await source.read(offset, buf);
  if (n !== length) {
    throw new CorruptDataError(
      `${source.name}: ${what} at ${offset} (${length} bytes) runs past the end of the file`,
    );
  }
  return buf;
}

/** Fills `dest` from `backing` at `offset`: zeroes past its end, or everywhere without a backing image. */
export async function readBacking(
  backing: DiskImage | undefined,
  offset: number,
  dest: Uint8Array,
): Promise<void> {
  const inside = backing ? Math.max(0, Math.min(dest.length, backing.size - offset)) : 0;
  if (backing && inside > 0) await backing.read(offset, dest.subarray(0, inside));
  dest.fill(0, inside);
}

/** A random RFC 4122 version-4 UUID in its 16-byte binary form (Web Crypto, in browsers and Node). */
export function randomUuid(): Uint8Array {
  const u = crypto.getRandomValues(new Uint8Array(16));
  u[6] = (u[6] & 0x0f) | 0x40;
  u[8] = (u[8] & 0x3f) | 0x80;
  return u;
}
