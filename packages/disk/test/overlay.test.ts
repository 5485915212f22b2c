import { describe, expect, it } from "vitest";
import { CowOverlay, MemoryByteSource } from "../src/index.js";
import { firstDifference, rng, SparseImage } from "./sparse-image.js";

describe("CowOverlay", () => {
  it("reads back what was written, reads the base elsewhere and never writes the base", async () => {
    const size = 256 * 1024 + 1000;
    const base = new SparseImage(size);
    const next = rng(7);
    await base.write(
      0,
      Uint8Array.from({ length: size }, () => Math.floor(next() * 256)),
    );
    const original = base.data.slice();
    base.writes = [];
    for (const store of [undefined, new MemoryByteSource("file-like store")]) {
      const ov = new CowOverlay(base, { store, granule: 16384, closeBase: false });
      const model = original.slice();
      for (let i = 0; i < 400; i++) {
        const off = Math.floor(next() * size);
        const len = Math.floor(next() * Math.min(40000, size - off));
        const op = next();
        if (op < 0.4) {
          const data = Uint8Array.from({ length: len }, () => Math.floor(next() * 256));
          await ov.write(off, data);
          model.set(data, off);
        } else if (op < 0.55) {
          await ov.writeZeroes(off, len);
          model.fill(0, off, off + len);
        } else {
          const got = new Uint8Array(len);
          await ov.read(off, got);
          expect(firstDifference(got, model.subarray(off, off + len))).toBe(-1);
        }
      }
      const all = new Uint8Array(size);
      await ov.read(0, all);
      expect(firstDifference(all, model)).toBe(-1);
      expect(ov.dirtyBytes).toBeGreaterThan(0);
      await ov.close();
    }
    expect(base.writes).toEqual([]);
    expect(firstDifference(base.data, original)).toBe(-1);
  });
});
