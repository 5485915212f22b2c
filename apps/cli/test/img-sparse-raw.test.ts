/**
 * Sparse raw files, judged by qemu-img 7.2: `map` and `info` see the holes of
 * the file (lseek(2) SEEK_DATA/SEEK_HOLE, qemu's file driver) exactly as
 * qemu-img does, and `convert -O qcow2` leaves them unallocated like qemu-img
 * convert.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { img, QEMU, qemuImg, tempDir } from "./img-helpers.js";

const { dir, cleanup } = tempDir();
afterAll(cleanup, 60_000);

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Name, file size and the `[offset, length]` ranges written with 0xa5 (the rest stays a hole). */
const FILES: [string, number, [number, number][]][] = [
  ["hole at start and end", 1 * MiB, [[64 * KiB, 4 * KiB]]],
  ["data at start, hole at end, 12345 bytes", 12_345, [[0, 100]]],
  ["data at end, 1000000 bytes", 1_000_000, [[999_000, 1000]]],
  ["no holes, 100000 bytes", 100_000, [[0, 100_000]]],
  ["fully sparse", 3 * MiB, []],
  [
    "runs of data and holes",
    8 * MiB,
    [
      [0, 512],
      [70_000, 3000],
      [1 * MiB, 1 * MiB],
      [3 * MiB + 4 * KiB, 8 * KiB],
      [8 * MiB - 512, 512],
    ],
  ],
  ["5 GiB with data at 4.5 GiB", 5 * GiB, [[4.5 * GiB + 100, 5]]],
];

function sparseFile(name: string, size: number, writes: [number, number][]): string {
  const path = join(dir, `${name.replaceAll(/[^a-z0-9.]+/gi, "-")}.raw`);
  const fd = openSync(path, "w");
  ftruncateSync(fd, size);
  for (const [offset, length] of writes) writeSync(fd, Buffer.alloc(length, 0xa5), 0, length, offset);
  closeSync(fd);
  return path;
}

describe.skipIf(!QEMU).each(FILES)("sparse raw file: %s", (name, size, writes) => {
  const path = sparseFile(name, size, writes);

  it("map --output=json prints what qemu-img prints", async () => {
    const r = await img("map", "-f", "raw", "--output=json", path);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toBe(qemuImg("map", "-f", "raw", "--output=json", path).stdout);
  });

  it("info --output=json agrees with qemu-img (virtual size in whole sectors, actual size)", async () => {
    const ours = JSON.parse((await img("info", "-f", "raw", "--output=json", path)).stdout);
    const theirs = JSON.parse(qemuImg("info", "-f", "raw", "--output=json", path).stdout);
    expect(ours).toMatchObject({
      "virtual-size": theirs["virtual-size"],
      "actual-size": theirs["actual-size"],
    });
  });

  it("convert -O qcow2 allocates the ranges qemu-img convert allocates", async () => {
    const ours = `${path}.ours.qcow2`;
    const theirs = `${path}.theirs.qcow2`;
    expect(await img("convert", "-f", "raw", "-O", "qcow2", path, ours)).toMatchObject({ code: 0 });
    expect(qemuImg("convert", "-f", "raw", "-O", "qcow2", path, theirs).code).toBe(0);
    expect(qemuImg("compare", "-f", "raw", "-F", "qcow2", path, ours).code).toBe(0);
    // Host offsets depend on the order clusters were written: compare what is allocated.
    const ranges = (file: string) =>
      JSON.parse(qemuImg("map", "-f", "qcow2", "--output=json", file).stdout).map(
        ({ offset: _, ...extent }: { offset?: number }) => extent,
      );
    expect(ranges(ours)).toEqual(ranges(theirs));
  });
});
