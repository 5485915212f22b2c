import { ReadOnlyError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { MemoryByteSource } from "./memory-source.js";

describe("MemoryByteSource", () => {
  it("grows on write, zero-fills gaps and reads short at end of file", async () => {
    const s = new MemoryByteSource("m");
    await s.write(10, Uint8Array.of(1, 2, 3));
    expect(await s.size()).toBe(13);
    const dest = new Uint8Array(8).fill(9);
    expect(await s.read(8, dest)).toBe(5);
    expect([...dest.subarray(0, 5)]).toEqual([0, 0, 1, 2, 3]);
    expect(await s.read(20, dest)).toBe(0);
  });

  it("truncate shrinks then regrows with zeroes, not stale bytes", async () => {
    const s = new MemoryByteSource("m", Uint8Array.of(1, 2, 3, 4));
    await s.truncate(2);
    await s.truncate(4);
    expect([...s.bytes()]).toEqual([1, 2, 0, 0]);
  });

  it("refuses writes when read-only and leaves the bytes intact", async () => {
    const s = new MemoryByteSource("ro", Uint8Array.of(7), { readOnly: true });
    await expect(s.write(0, Uint8Array.of(1))).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(s.truncate(0)).rejects.toBeInstanceOf(ReadOnlyError);
    expect([...s.bytes()]).toEqual([7]);
  });
});
