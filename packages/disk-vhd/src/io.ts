/**
 * Small I/O helpers shared by the VHD, VMDK and VDI drivers (exported on the
 * `@backplane/disk-vhd/unstable` subpath until `@backplane/disk` offers them).
 */
import { CorruptDataError } from "@backplane/core";
import type { ByteSource, DiskImage } from "@backplane/disk";

/**
 * Reads exactly `length` bytes at `offset`. A short read means the structure
 * (`what`) runs past the end of the file: CorruptDataError.
 */
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

/** A random RFC 4122 version-4 UUID in its 16-byte binary form (VHD Unique ID, VDI image UUIDs). */
export function randomUuid(): Uint8Array {
  const u = crypto.getRandomValues(new Uint8Array(16));
  u[6] = (u[6] & 0x0f) | 0x40;
  u[8] = (u[8] & 0x3f) | 0x80;
  return u;
}

/** Runs async tasks one at a time in call order (writes that allocate must not interleave). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
