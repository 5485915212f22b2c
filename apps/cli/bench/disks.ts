/** Test disks shared by the benchmarks. */
import { randomFillSync } from "node:crypto";
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";

/**
 * Writes a sparse raw disk of `mib` MiB at `path`: each 1 MiB is random data
 * or a hole, chosen by a fixed-seed generator (about half of each), so every
 * run and every benchmark sees the same layout.
 */
export function writeHalfRandomRaw(path: string, mib: number): void {
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, mib * (1 << 20));
    const chunk = Buffer.alloc(1 << 20);
    let seed = 12345;
    for (let i = 0; i < mib; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      if (seed & 0x10000) {
        randomFillSync(chunk);
        writeSync(fd, chunk, 0, chunk.length, i * (1 << 20));
      }
    }
  } finally {
    closeSync(fd);
  }
}
