/**
 * `FileByteSource.allocationMap` on sparse files (lseek(2) SEEK_DATA /
 * SEEK_HOLE through fs-ext): holes read as zeroes, the map agrees with
 * `qemu-img map` (qemu's file driver asks lseek the same questions), offsets
 * beyond 4 GiB work, and without fs-ext or SEEK_DATA everything is data.
 */
import { spawnSync } from "node:child_process";
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { FileByteSource, HostIoError } from "./file.js";

const dir = await mkdtemp(join(tmpdir(), "bp-holes-"));
afterAll(() => rm(dir, { recursive: true, force: true }));
const hasQemuImg = spawnSync("qemu-img", ["--version"]).status === 0;

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Makes a sparse file of `size` bytes with 0xa5 bytes at each `[offset, length]`. */
function sparseFile(name: string, size: number, writes: [number, number][]): string {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  ftruncateSync(fd, size);
  for (const [offset, length] of writes) writeSync(fd, Buffer.alloc(length, 0xa5), 0, length, offset);
  closeSync(fd);
  return path;
}

/** qemu-img's map of a raw file: `[start, length, data]` per extent. */
function qemuMap(path: string): [number, number, boolean][] {
  const r = spawnSync("qemu-img", ["map", "-f", "raw", "--output=json", path], { encoding: "utf8" });
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout).map((e: { start: number; length: number; data: boolean }) => [
    e.start,
    e.length,
    e.data,
  ]);
}

const LAYOUTS: [string, number, [number, number][]][] = [
  ["hole at start and end", 1 * MiB, [[64 * KiB, 4 * KiB]]],
  ["data at end, size not a multiple of 512", 1_000_000, [[999_000, 1000]]],
  [
    "unaligned writes between holes",
    256 * KiB,
    [
      [0, 4 * KiB],
      [70_000, 3000],
      [131_072, 8 * KiB],
      [150_000, 40_000],
    ],
  ],
  ["no holes, size not a multiple of 512", 100_000, [[0, 100_000]]],
  ["fully sparse", 1 * MiB, []],
];

describe.each(LAYOUTS)("allocationMap of a sparse file: %s", (name, size, writes) => {
  const path = sparseFile(`${name.replaceAll(" ", "-")}.raw`, size, writes);

  it("tiles the range with alternating extents; holes read as zeroes, written bytes lie in data", async () => {
    const src = await FileByteSource.open(path, { readOnly: true });
    const map = await src.allocationMap(0, size);
    let pos = 0;
    for (const [i, e] of map.entries()) {
      expect(e.start).toBe(pos);
      expect(e.length).toBeGreaterThan(0);
      if (i > 0) expect(e.data).not.toBe(map[i - 1].data);
      pos += e.length;
      if (!e.data) {
        const bytes = new Uint8Array(e.length);
        await src.read(e.start, bytes);
        expect(bytes.every((b) => b === 0)).toBe(true);
      }
    }
    expect(pos).toBe(size);
    const dataAt = (at: number) => map.find((e) => e.start <= at && at < e.start + e.length)?.data;
    for (const [offset, length] of writes) {
      expect(dataAt(offset)).toBe(true);
      expect(dataAt(offset + length - 1)).toBe(true);
    }
    if (writes.length === 0) expect(map).toEqual([{ start: 0, length: size, data: false }]);
    await src.close();
  });

  it.skipIf(!hasQemuImg)("equals qemu-img map (the part past the end of the file is a hole)", async () => {
    const src = await FileByteSource.open(path, { readOnly: true });
    // qemu's virtual size is the file size rounded up to whole sectors.
    const map = await src.allocationMap(0, Math.ceil(size / 512) * 512);
    await src.close();
    expect(map.map((e) => [e.start, e.length, e.data])).toEqual(qemuMap(path));
  });
});

describe("allocationMap", () => {
  afterEach(() => {
    vi.doUnmock("fs-ext");
    vi.resetModules();
  });

  it("finds data beyond 4 GiB in a 5 GiB sparse file, like qemu-img map", async () => {
    const at = 4.5 * GiB;
    const path = sparseFile("big.raw", 5 * GiB, [[at + 100, 5]]);
    const src = await FileByteSource.open(path, { readOnly: true });
    const map = await src.allocationMap(0, 5 * GiB);
    expect(map).toHaveLength(3);
    expect(map[0]).toEqual({ start: 0, length: at, data: false });
    expect(map[1]).toMatchObject({ start: at, data: true });
    expect(map[1].length).toBeLessThan(1 * MiB);
    expect(map[2]).toEqual({
      start: map[1].start + map[1].length,
      length: 5 * GiB - map[2].start,
      data: false,
    });
    // A window inside the data block and past it.
    expect(await src.allocationMap(at + 100, 5)).toEqual([{ start: at + 100, length: 5, data: true }]);
    if (hasQemuImg) expect(map.map((e) => [e.start, e.length, e.data])).toEqual(qemuMap(path));
    await src.close();
  });

  it("clips to the range, counts bytes past the end of the file as a hole and follows size changes", async () => {
    const path = sparseFile("live.raw", 64 * KiB, [[0, 4 * KiB]]);
    const src = await FileByteSource.open(path);
    expect(await src.allocationMap(1000, 10)).toEqual([{ start: 1000, length: 10, data: true }]);
    expect(await src.allocationMap(0, 128 * KiB)).toEqual([
      { start: 0, length: 4 * KiB, data: true },
      { start: 4 * KiB, length: 124 * KiB, data: false },
    ]);
    // Growing the file: the data ends where the file now ends.
    await src.write(100 * KiB, Uint8Array.of(1));
    expect(await src.allocationMap(96 * KiB, 32 * KiB)).toEqual([
      { start: 96 * KiB, length: 4 * KiB, data: false },
      { start: 100 * KiB, length: 1, data: true },
      { start: 100 * KiB + 1, length: 28 * KiB - 1, data: false },
    ]);
    await src.truncate(2 * KiB);
    expect(await src.allocationMap(0, 8 * KiB)).toEqual([
      { start: 0, length: 2 * KiB, data: true },
      { start: 2 * KiB, length: 6 * KiB, data: false },
    ]);
    expect(await src.allocationMap(5, 0)).toEqual([]);
    await src.close();
  });

  it("reports lseek failures other than ENXIO and EINVAL as HostIoError", async () => {
    const src = await FileByteSource.open(sparseFile("closed.raw", 4 * KiB, []), { readOnly: true });
    await src.close();
    await expect(src.allocationMap(0, 4 * KiB)).rejects.toBeInstanceOf(HostIoError);
  });

  it("reports everything as data when fs-ext cannot be loaded", async () => {
    vi.doMock("fs-ext", () => {
      throw new Error("addon not built");
    });
    vi.resetModules();
    const { FileByteSource: Fresh } = await import("./file.js");
    const src = await Fresh.open(sparseFile("no-addon.raw", 1 * MiB, [[0, 4 * KiB]]), { readOnly: true });
    expect(await src.allocationMap(0, 1 * MiB)).toEqual([{ start: 0, length: 1 * MiB, data: true }]);
    await src.close();
  });

  it("reports everything as data when the file system has no SEEK_DATA (EINVAL)", async () => {
    const seekSync = vi.fn(() => {
      throw Object.assign(new Error("EINVAL, Invalid argument"), { code: "EINVAL" });
    });
    vi.doMock("fs-ext", () => ({ default: { seekSync } }));
    vi.resetModules();
    const { FileByteSource: Fresh } = await import("./file.js");
    const src = await Fresh.open(sparseFile("no-seek-data.raw", 1 * MiB, [[0, 4 * KiB]]), { readOnly: true });
    expect(await src.allocationMap(0, 1 * MiB)).toEqual([{ start: 0, length: 1 * MiB, data: true }]);
    expect(seekSync).toHaveBeenCalledWith(expect.any(Number), 0, 3);
    await src.close();
  });
});
