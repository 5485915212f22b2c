/**
 * copyImage's compressed mode: several clusters in
 * flight, each written exactly once with the source's bytes, progress in
 * order, and a failure reported only after every started write settled.
 */
import { describe, expect, it } from "vitest";
import { copyImage } from "../src/index.js";
import { firstDifference, G, rng, SparseImage } from "./sparse-image.js";

/** A destination whose compressed writes finish out of order, after a few event-loop turns each. */
class SlowCompressingImage extends SparseImage {
  active = 0;
  most = 0;
  failAt = -1;
  afterFailure = 0;
  private failed = false;
  private readonly next = rng(17);

  override async writeCompressed(offset: number, src: Uint8Array): Promise<void> {
    if (this.failed) this.afterFailure++;
    this.active++;
    this.most = Math.max(this.most, this.active);
    const copy = src.slice(); // what the caller passed now must still be there when the write lands
    for (let turns = Math.floor(this.next() * 4); turns > 0; turns--)
      await new Promise((resolve) => setImmediate(resolve));
    this.active--;
    if (offset === this.failAt) {
      this.failed = true;
      throw new Error(`write at ${offset} failed`);
    }
    expect(firstDifference(copy, src)).toBe(-1);
    await super.writeCompressed(offset, src);
  }
}

describe("copyImage compressed mode", () => {
  it("keeps several clusters in flight, writes each once, reports progress in order", async () => {
    const src = new SparseImage(256 * G);
    const next = rng(5);
    await src.write(
      0,
      Uint8Array.from({ length: 100 * G }, () => Math.floor(next() * 4)),
    );
    await src.write(140 * G, new Uint8Array(10 * G).fill(7));
    await src.write(200 * G, new Uint8Array(G)); // data that is all zeroes
    const dst = new SlowCompressingImage(256 * G);
    const progress: number[] = [];
    const r = await copyImage(src, dst, { compressChunk: 2 * G, onProgress: (d) => progress.push(d) });
    const got = new Uint8Array(dst.size);
    const want = new Uint8Array(src.size);
    await dst.read(0, got);
    await src.read(0, want);
    expect(firstDifference(got, want)).toBe(-1);
    const expected = [...Array(50).keys(), ...[70, 71, 72, 73, 74]].map((c) => c * 2 * G);
    expect(dst.compressed.slice().sort((a, b) => a - b)).toEqual(expected);
    expect(r.written).toBe(110 * G);
    expect(dst.most).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress[progress.length - 1]).toBe(256 * G);
  });

  it("a failed write rejects the copy once every started write settled; no write starts after", async () => {
    const src = new SparseImage(256 * G);
    await src.write(0, new Uint8Array(256 * G).fill(3));
    const dst = new SlowCompressingImage(256 * G);
    dst.failAt = 40 * G;
    const progress: number[] = [];
    await expect(
      copyImage(src, dst, { compressChunk: 2 * G, onProgress: (d) => progress.push(d) }),
    ).rejects.toThrow(`write at ${40 * G} failed`);
    expect(dst.active).toBe(0);
    expect(dst.afterFailure).toBe(0);
    expect(Math.max(...progress)).toBeLessThanOrEqual(40 * G);
  });
});
