import { InvalidArgumentError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { type AlignedIo, checkRange, granules, isZero, readUnaligned, writeUnaligned } from "./ranges.js";

/** Aligned storage over a plain buffer that rejects any unaligned access. */
function alignedStore(bytes: Uint8Array, granule: number): AlignedIo {
  const aligned = (offset: number, n: number) => {
    if (offset % granule !== 0 || n % granule !== 0) throw new Error(`unaligned ${offset}+${n}`);
  };
  return {
    granule,
    async readAligned(offset, dest) {
      aligned(offset, dest.length);
      dest.set(bytes.subarray(offset, offset + dest.length));
    },
    async writeAligned(offset, src) {
      aligned(offset, src.length);
      bytes.set(src, offset);
    },
  };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe("granules", () => {
  it("cuts a range at granule boundaries", () => {
    expect([...granules(500, 1100, 512)]).toEqual([
      { index: 0, start: 500, pos: 0, length: 12 },
      { index: 1, start: 0, pos: 12, length: 512 },
      { index: 2, start: 0, pos: 524, length: 512 },
      { index: 3, start: 0, pos: 1036, length: 64 },
    ]);
    expect([...granules(0, 0, 512)]).toEqual([]);
  });
});

describe("unaligned I/O over aligned storage", () => {
  it("matches a plain buffer for random reads and writes", async () => {
    const size = 12288;
    const next = rng(42);
    for (const granule of [512, 4096, 1536]) {
      const store = new Uint8Array(size);
      const model = new Uint8Array(size);
      const io = alignedStore(store, granule);
      for (let i = 0; i < 300; i++) {
        const off = Math.floor(next() * size);
        const len = Math.floor(next() * Math.min(3000, size - off));
        if (next() < 0.5) {
          const data = Uint8Array.from({ length: len }, () => Math.floor(next() * 256));
          await writeUnaligned(io, off, data);
          model.set(data, off);
        } else {
          const got = new Uint8Array(len);
          await readUnaligned(io, off, got);
          expect(same(got, model.subarray(off, off + len))).toBe(true);
        }
      }
      expect(same(store, model)).toBe(true);
    }
  });
});

describe("checkRange and isZero", () => {
  it("rejects ranges past the end and negative or fractional values", () => {
    expect(() => checkRange(100, 90, 10)).not.toThrow();
    expect(() => checkRange(100, 90, 11)).toThrow(InvalidArgumentError);
    expect(() => checkRange(100, -1, 1)).toThrow(InvalidArgumentError);
    expect(() => checkRange(100, 1.5, 1)).toThrow(InvalidArgumentError);
  });

  it("finds a single non-zero byte at any position and alignment", () => {
    const buf = new Uint8Array(67);
    for (let start = 0; start < 5; start++) {
      const view = buf.subarray(start);
      expect(isZero(view)).toBe(true);
      for (let i = 0; i < view.length; i++) {
        view[i] = 1;
        expect(isZero(view)).toBe(false);
        view[i] = 0;
      }
    }
  });
});
