import { InvalidArgumentError, ReadOnlyError, UnsupportedError } from "@backplane/core";
import { FormatRegistry, MemoryByteSource } from "@backplane/disk";
import { describe, expect, it } from "vitest";
import { raw } from "./raw.js";

describe("raw", () => {
  it("creates a zeroed image rounded up to whole sectors", async () => {
    const src = new MemoryByteSource("r.img");
    const img = await raw.create(src, { size: 1000 });
    expect(img.size).toBe(1024);
    expect(await src.size()).toBe(1024);
    expect((await img.info())["virtual-size"]).toBe(1024);
  });

  it("is the file byte for byte: writes land at the same file offset", async () => {
    const src = new MemoryByteSource("r.img", new Uint8Array(4096));
    const img = await raw.open(src);
    await img.write(1000, Uint8Array.of(1, 2, 3));
    expect([...src.bytes().subarray(999, 1004)]).toEqual([0, 1, 2, 3, 0]);
    await img.writeZeroes?.(1001, 1);
    const back = new Uint8Array(5);
    await img.read(999, back);
    expect([...back]).toEqual([0, 1, 0, 3, 0]);
    await img.discard?.(0, 4096);
    expect(src.bytes().every((b) => b === 0)).toBe(true);
  });

  it("refuses out-of-range I/O, writes when read-only and shrinking without the flag", async () => {
    const src = new MemoryByteSource("r.img", new Uint8Array(1024).fill(5));
    const img = await raw.open(src);
    await expect(img.read(1000, new Uint8Array(100))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(img.resize?.(512)).rejects.toThrow(/--shrink/);
    await img.resize?.(2048);
    expect(await src.size()).toBe(2048);
    await img.resize?.(512, { shrink: true });
    expect(img.size).toBe(512);
    const ro = await raw.open(new MemoryByteSource("ro", new Uint8Array(512), { readOnly: true }));
    expect(ro.readOnly).toBe(true);
    await expect(ro.write(0, Uint8Array.of(1))).rejects.toBeInstanceOf(ReadOnlyError);
  });

  it("rejects backing files and unknown options; measures its size", async () => {
    await expect(raw.create(new MemoryByteSource(), { size: 512, backingFile: "b" })).rejects.toBeInstanceOf(
      UnsupportedError,
    );
    await expect(
      raw.create(new MemoryByteSource(), { size: 512, options: { cluster_size: "4k" } }),
    ).rejects.toThrow("Invalid parameter 'cluster_size'");
    expect(raw.measure?.({ size: 1000 })).toEqual({ required: 1024, "fully-allocated": 1024 });
  });

  it("opens a file that ends inside a sector as whole sectors; the tail reads as zeroes", async () => {
    const img = await raw.open(new MemoryByteSource("odd", new Uint8Array(1000).fill(7)));
    expect(img.size).toBe(1024);
    expect((await img.info())["virtual-size"]).toBe(1024);
    const tail = new Uint8Array(48);
    await img.read(976, tail);
    expect([...tail]).toEqual([...new Array(24).fill(7), ...new Array(24).fill(0)]);
  });

  it("maps the holes its byte source reports as zeroes and the rest as data, at their file offsets", async () => {
    const src = Object.assign(new MemoryByteSource("sparse", new Uint8Array(16384)), {
      allocationMap: async (offset: number, length: number) => [
        { start: offset, length: 4096 - offset, data: false },
        { start: 4096, length: offset + length - 4096, data: true },
      ],
    });
    const img = await raw.open(src);
    expect(await img.blockStatus(1024, 8192)).toEqual([
      { start: 1024, length: 3072, depth: 0, present: true, data: false, zero: true, offset: 1024 },
      { start: 4096, length: 5120, depth: 0, present: true, data: true, zero: false, offset: 4096 },
    ]);
  });

  it("is what the registry falls back to", async () => {
    const reg = new FormatRegistry();
    reg.register(raw);
    const img = await reg.open(new MemoryByteSource("x", new TextEncoder().encode("anything")));
    expect(img.format).toBe("raw");
    expect(await img.blockStatus(0, 8)).toEqual([
      { start: 0, length: 8, depth: 0, present: true, data: true, zero: false, offset: 0 },
    ]);
  });
});
