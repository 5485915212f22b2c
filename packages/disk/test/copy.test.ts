import { describe, expect, it } from "vitest";
import { copyImage } from "../src/index.js";
import { firstDifference, G, rng, SparseImage } from "./sparse-image.js";

async function contents(img: SparseImage): Promise<Uint8Array> {
  const buf = new Uint8Array(img.size);
  await img.read(0, buf);
  return buf;
}

describe("copyImage", () => {
  it("copies a chain's contents, writing only data and skipping zero runs of sparseSize", async () => {
    const base = new SparseImage(64 * G);
    await base.write(0, new Uint8Array(3 * G).fill(1));
    const top = new SparseImage(64 * G, base);
    await top.write(G, new Uint8Array(G).fill(2));
    await top.write(10 * G, new Uint8Array(2 * G)); // data that is all zeroes
    await top.write(20 * G + 100, Uint8Array.of(3));
    await top.writeZeroes(2 * G, G); // hides base data
    const dst = new SparseImage(64 * G);
    const progress: number[] = [];
    const r = await copyImage(top, dst, { onProgress: (d) => progress.push(d) });
    expect(firstDifference(await contents(dst), await contents(top))).toBe(-1);
    expect(r.written).toBe(3 * G);
    expect(dst.writes.map((w) => w.offset)).toEqual([0, G, 20 * G]);
    expect(progress[progress.length - 1]).toBe(64 * G);
  });

  it("sparseSize 0 writes zero data too; targetIsZero false overwrites stale data", async () => {
    const src = new SparseImage(8 * G);
    await src.write(0, new Uint8Array(2 * G));
    const dst = new SparseImage(8 * G);
    await dst.write(0, new Uint8Array(8 * G).fill(9));
    await copyImage(src, dst, { sparseSize: 0, targetIsZero: false });
    expect((await contents(dst)).every((b) => b === 0)).toBe(true);
    expect(dst.writes.slice(1)).toEqual([{ offset: 0, length: 2 * G }]);
  });

  it("top mode copies only the top image's own ranges (commit)", async () => {
    const base = new SparseImage(16 * G);
    await base.write(0, new Uint8Array(16 * G).fill(5));
    const top = new SparseImage(16 * G, base);
    await top.write(3 * G, new Uint8Array(G).fill(6));
    await top.writeZeroes(8 * G, 2 * G);
    await copyImage(top, base, { ranges: "top", targetIsZero: false });
    const want = new Uint8Array(16 * G).fill(5);
    want.fill(6, 3 * G, 4 * G);
    want.fill(0, 8 * G, 10 * G);
    expect(firstDifference(await contents(base), want)).toBe(-1);
  });

  it("compressed mode writes whole clusters that hold non-zero data", async () => {
    const src = new SparseImage(64 * G);
    const next = rng(3);
    await src.write(
      5 * G + 7,
      Uint8Array.from({ length: 300 }, () => 1 + Math.floor(next() * 255)),
    );
    await src.write(40 * G, new Uint8Array(G));
    const dst = new SparseImage(64 * G);
    await copyImage(src, dst, { compressChunk: 4 * G });
    expect(dst.compressed).toEqual([4 * G]);
    expect(firstDifference(await contents(dst), await contents(src))).toBe(-1);
  });

  it("reports a destination write failure (overlapped writes) as the copy's rejection", async () => {
    const src = new SparseImage(64 * G);
    await src.write(0, new Uint8Array(64 * G).fill(1));
    const dst = new SparseImage(64 * G);
    let writes = 0;
    dst.write = async () => {
      if (++writes === 2) throw new Error("disk full");
    };
    await expect(copyImage(src, dst, { bufferSize: 4 * G })).rejects.toThrow("disk full");
  });

  it("issues writes in disk order while reads finish out of order, several writes in flight", async () => {
    const src = new SparseImage(64 * G);
    await src.write(
      0,
      Uint8Array.from({ length: 64 * G }, (_, i) => 1 + (i % 251)),
    );
    // Later reads finish first: the read of chunk k takes (8 - k % 8) ms.
    const read = src.read.bind(src);
    src.read = async (offset, dest) => {
      await new Promise((r) => setTimeout(r, 8 - ((offset / (4 * G)) % 8)));
      return read(offset, dest);
    };
    const dst = new SparseImage(64 * G);
    const write = dst.write.bind(dst);
    let running = 0;
    let most = 0;
    dst.write = async (offset, bytes) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 2));
      await write(offset, bytes);
      running--;
    };
    const progress: number[] = [];
    await copyImage(src, dst, { bufferSize: 4 * G, depth: 4, onProgress: (d) => progress.push(d) });
    expect(firstDifference(await contents(dst), await contents(src))).toBe(-1);
    const offsets = dst.writes.map((w) => w.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(most).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("a failed source read rejects the copy; nothing after it is written", async () => {
    const src = new SparseImage(64 * G);
    await src.write(0, new Uint8Array(64 * G).fill(3));
    const read = src.read.bind(src);
    src.read = async (offset, dest) => {
      if (offset === 8 * G) throw new Error("bad sector");
      return read(offset, dest);
    };
    const dst = new SparseImage(64 * G);
    await expect(copyImage(src, dst, { bufferSize: 4 * G, depth: 4 })).rejects.toThrow("bad sector");
    expect(dst.writes.every((w) => w.offset < 8 * G)).toBe(true);
  });
});
