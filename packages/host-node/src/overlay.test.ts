import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlockBackend, ReadOnlyError } from "@backplane/core";
import { CowOverlay } from "@backplane/disk";
import { afterAll, describe, expect, it } from "vitest";
import { FileByteSource } from "./file.js";

const dir = await mkdtemp(join(tmpdir(), "bp-overlay-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("CowOverlay over a read-only image file with a temporary-file store (snapshot=on)", () => {
  it("serves writes from the store, never changes the image and removes the store on close", async () => {
    const path = join(dir, "disk.img");
    const original = new Uint8Array(1 << 20).map((_, i) => i % 251);
    await writeFile(path, original);
    const file = await FileByteSource.open(path, { readOnly: true });
    const base: BlockBackend = {
      size: await file.size(),
      readOnly: true,
      blockSize: 512,
      read: async (offset, dest) => void (await file.read(offset, dest)),
      write: () => Promise.reject(new ReadOnlyError("read-only")),
      flush: async () => {},
      close: () => file.close(),
    };
    const store = await FileByteSource.temporary();
    const overlay = new CowOverlay(base, { store });
    await overlay.write(1000, new Uint8Array(70000).fill(7));
    await overlay.writeZeroes(500000, 100);
    const back = new Uint8Array(1 << 20);
    await overlay.read(0, back);
    const want = original.slice();
    want.fill(7, 1000, 71000);
    want.fill(0, 500000, 500100);
    expect(back.every((v, i) => v === want[i])).toBe(true);
    await overlay.close();
    expect(new Uint8Array(await readFile(path)).every((v, i) => v === original[i])).toBe(true);
    await expect(stat(store.name)).rejects.toThrow();
  });
});
