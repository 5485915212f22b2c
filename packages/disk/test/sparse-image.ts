/** Test helper: an in-memory image with a 4 KiB allocation granule and an optional backing image. */
import {
  checkRange,
  type DiskImage,
  granules,
  type MapExtent,
  MemoryByteSource,
  mergeExtents,
} from "../src/index.js";

export const G = 4096;

export class SparseImage implements DiskImage {
  readonly format = "sparse";
  readonly source = new MemoryByteSource("sparse");
  readonly readOnly = false;
  readonly blockSize = 512;
  readonly data: Uint8Array;
  /** 0 unallocated, 1 data, 2 zero. */
  readonly state: Uint8Array;
  writes: { offset: number; length: number }[] = [];
  compressed: number[] = [];

  constructor(
    readonly size: number,
    readonly backing?: DiskImage,
  ) {
    this.data = new Uint8Array(size);
    this.state = new Uint8Array(Math.ceil(size / G));
  }

  async read(offset: number, dest: Uint8Array): Promise<void> {
    checkRange(this.size, offset, dest.length);
    for (const p of granules(offset, dest.length, G)) {
      const part = dest.subarray(p.pos, p.pos + p.length);
      const s = this.state[p.index];
      if (s === 1) part.set(this.data.subarray(offset + p.pos, offset + p.pos + p.length));
      else if (s === 0 && this.backing && offset + p.pos < this.backing.size) {
        const n = Math.min(p.length, this.backing.size - offset - p.pos);
        await this.backing.read(offset + p.pos, part.subarray(0, n));
        part.fill(0, n);
      } else part.fill(0);
    }
  }

  async write(offset: number, src: Uint8Array): Promise<void> {
    checkRange(this.size, offset, src.length);
    this.writes.push({ offset, length: src.length });
    for (const p of granules(offset, src.length, G)) {
      if (this.state[p.index] !== 1) {
        const whole = new Uint8Array(G);
        if (this.state[p.index] === 0)
          await this.read(p.index * G, whole.subarray(0, Math.min(G, this.size - p.index * G)));
        this.data.set(whole.subarray(0, Math.min(G, this.size - p.index * G)), p.index * G);
        this.state[p.index] = 1;
      }
    }
    this.data.set(src, offset);
  }

  async writeZeroes(offset: number, length: number): Promise<void> {
    for (const p of granules(offset, length, G)) {
      if (p.length === G) this.state[p.index] = 2;
      else await this.write(offset + p.pos, new Uint8Array(p.length));
    }
  }

  async writeCompressed(offset: number, src: Uint8Array): Promise<void> {
    this.compressed.push(offset);
    await this.write(offset, src);
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  async info() {
    return { filename: "sparse", format: "sparse", "virtual-size": this.size };
  }

  async blockStatus(offset: number, length: number): Promise<MapExtent[]> {
    return mergeExtents(
      [...granules(offset, length, G)].map((p) => {
        const s = this.state[p.index];
        return { start: offset + p.pos, length: p.length, depth: 0, data: s === 1, zero: s === 2 };
      }),
    );
  }
}

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Index of the first byte where `a` and `b` differ (or the shorter length), -1 when equal; fast on large arrays. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
