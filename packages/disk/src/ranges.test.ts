import { InvalidArgumentError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import {
  type AlignedIo,
  checkRange,
  granules,
  isZero,
  readUnaligned,
  writeUnaligned,
  zeroRuns,
} from "./ranges.js";

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

describe("zeroRuns", () => {
  it("splits a buffer into maximal runs of zero and data blocks, at any alignment and block size", () => {
    const next = (() => {
      let x = 7;
      return () => {
        x = (x * 1103515245 + 12345) >>> 0;
        return x / 2 ** 32;
      };
    })();
    for (let trial = 0; trial < 200; trial++) {
      const block = [4, 12, 512, 4096, 7][trial % 5];
      const start = trial % 3;
      const backing = new Uint8Array(start + 40 * block + (trial % 11));
      const buf = backing.subarray(start);
      for (let b = 0; b * block < buf.length; b++) {
        if (next() < 0.4) buf[Math.min(buf.length - 1, b * block + Math.floor(next() * block))] = 1;
      }
      const runs = zeroRuns(buf, block);
      // Runs tile the buffer, alternate, and agree with a block-by-block isZero.
      let at = 0;
      for (const [i, r] of runs.entries()) {
        expect(r.start).toBe(at);
        if (i > 0) expect(r.zero).not.toBe(runs[i - 1].zero);
        for (let p = r.start; p < r.end; p += block)
          expect(isZero(buf.subarray(p, Math.min(p + block, r.end)))).toBe(r.zero);
        at = r.end;
      }
      expect(at).toBe(buf.length);
    }
    expect(zeroRuns(new Uint8Array(0), 512)).toEqual([]);
    expect(() => zeroRuns(new Uint8Array(8), 0)).toThrow(RangeError);
  });
});
