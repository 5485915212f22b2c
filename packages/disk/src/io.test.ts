import { CorruptDataError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { randomUuid, readBacking, readExact } from "./io.js";
import { MemoryByteSource } from "./memory-source.js";
import type { DiskImage } from "./types.js";

describe("driver I/O helpers", () => {
  it("readExact returns the bytes or names the truncated structure", async () => {
    const src = new MemoryByteSource("img", Uint8Array.of(1, 2, 3, 4));
    expect([...(await readExact(src, 1, 3, "header"))]).toEqual([2, 3, 4]);
    await expect(readExact(src, 2, 4, "L1 table")).rejects.toBeInstanceOf(CorruptDataError);
    await expect(readExact(src, 2, 4, "L1 table")).rejects.toThrow(
      "img: L1 table at 2 (4 bytes) runs past the end of the file",
    );
  });

  it("readBacking zero-fills past the backing image's end and without one", async () => {
    const backing = {
      size: 4,
      read: async (o: number, d: Uint8Array) => d.set([9, 8, 7, 6].slice(o, o + d.length)),
    };
    const dest = new Uint8Array(4).fill(0xff);
    await readBacking(backing as unknown as DiskImage, 2, dest);
    expect([...dest]).toEqual([7, 6, 0, 0]);
    await readBacking(undefined, 0, dest);
    expect([...dest]).toEqual([0, 0, 0, 0]);
  });

  it("randomUuid sets the version and variant bits and differs between calls", () => {
    const a = randomUuid();
    expect(a.length).toBe(16);
    expect(a[6] >> 4).toBe(4);
    expect(a[8] >> 6).toBe(2);
    expect(randomUuid()).not.toEqual(a);
  });
});
