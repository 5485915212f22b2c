import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotFoundError, ReadOnlyError } from "@backplane/core";
import { afterAll, describe, expect, it } from "vitest";
import { FileByteSource } from "./file.js";

const dir = await mkdtemp(join(tmpdir(), "bp-file-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("FileByteSource", () => {
  it("reads and writes beyond 4 GiB at exact offsets (sparse file)", async () => {
    const path = join(dir, "big.img");
    const src = await FileByteSource.create(path);
    const offset = 5 * 2 ** 30 + 123;
    await src.write(offset, Uint8Array.of(1, 2, 3));
    expect(await src.size()).toBe(offset + 3);
    await src.close();
    expect((await stat(path)).size).toBe(offset + 3);
    const ro = await FileByteSource.open(path, { readOnly: true });
    const back = new Uint8Array(5);
    expect(await ro.read(offset - 1, back)).toBe(4);
    expect([...back]).toEqual([0, 1, 2, 3, 0]);
    await ro.close();
  });

  it("refuses writes when opened read-only and leaves the file unchanged", async () => {
    const path = join(dir, "ro.img");
    await writeFile(path, Uint8Array.of(9, 9));
    const ro = await FileByteSource.open(path, { readOnly: true });
    await expect(ro.write(0, Uint8Array.of(1))).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(ro.truncate(0)).rejects.toBeInstanceOf(ReadOnlyError);
    await ro.close();
    expect([...(await readFile(path))]).toEqual([9, 9]);
  });

  it("reports a missing file with NotFoundError naming it", async () => {
    const path = join(dir, "missing.img");
    await expect(FileByteSource.open(path)).rejects.toBeInstanceOf(NotFoundError);
    await expect(FileByteSource.open(path)).rejects.toThrow(
      `Could not open '${path}': No such file or directory`,
    );
  });

  it("truncates and removes temporary files on close", async () => {
    const t = await FileByteSource.temporary();
    await t.write(0, new Uint8Array(100).fill(1));
    await t.truncate(10);
    expect(await t.size()).toBe(10);
    expect((await stat(t.name)).size).toBe(10);
    await t.close();
    await expect(stat(t.name)).rejects.toThrow();
  });
});
