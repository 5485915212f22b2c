import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnsupportedError } from "@backplane/core";
import { BackingChainError, type DiskFormat, type DiskImage, FormatRegistry } from "@backplane/disk";
import { afterAll, describe, expect, it } from "vitest";
import { createDiskFile, openDiskFile, resolveBackingPath } from "./disk-file.js";

const dir = await mkdtemp(join(tmpdir(), "bp-diskfile-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Test format: "REF\n<backing name>", no data; records where its backing came from. */
const ref: DiskFormat = {
  name: "ref",
  probe: (h) => (new TextDecoder().decode(h.subarray(0, 4)) === "REF\n" ? 100 : 0),
  async open(source, options = {}) {
    const buf = new Uint8Array(await source.size());
    await source.read(0, buf);
    const name = new TextDecoder().decode(buf).slice(4);
    const backing = name ? await options.openBacking?.(name, "ref", source.name) : undefined;
    return {
      format: "ref",
      source,
      backing,
      size: 0,
      readOnly: true,
      blockSize: 512,
      read: async () => {},
      write: async () => {},
      flush: async () => {},
      close: async () => {
        await backing?.close();
        await source.close();
      },
      info: async () => ({ filename: source.name, format: "ref", "virtual-size": 0 }),
      blockStatus: async () => [],
    } satisfies DiskImage;
  },
  create: () => Promise.reject(new Error("unused")),
};
const registry = new FormatRegistry();
registry.register(ref);

describe("openDiskFile", () => {
  it("resolves relative backing names against the referring image's directory", async () => {
    await mkdir(join(dir, "a/b"), { recursive: true });
    await writeFile(join(dir, "a/b/top"), "REF\n../base");
    await writeFile(join(dir, "a/base"), "REF\nb/../../abs");
    await writeFile(join(dir, "abs"), "REF\n");
    const img = await openDiskFile(join(dir, "a/b/top"), { registry });
    expect(img.backing?.source.name).toBe(join(dir, "a/base"));
    expect(img.backing?.backing?.source.name).toBe(join(dir, "abs"));
    expect(img.backing?.source.readOnly).toBe(true);
    await img.close();
  });

  it("detects loops through symlinks and different spellings", async () => {
    await writeFile(join(dir, "x"), "REF\nlink-to-x");
    await symlink(join(dir, "x"), join(dir, "link-to-x"));
    await expect(openDiskFile(join(dir, "x"), { registry })).rejects.toBeInstanceOf(BackingChainError);
    await writeFile(join(dir, "p"), "REF\n./q");
    await writeFile(join(dir, "q"), `REF\n../${dir.split("/").pop()}/p`);
    await expect(openDiskFile(join(dir, "p"), { registry })).rejects.toThrow(/loop/);
  });

  it("refuses protocol references and reports missing backing files", async () => {
    expect(() => resolveBackingPath("nbd://host/x", "/a/b")).toThrow(UnsupportedError);
    expect(resolveBackingPath("/abs", "/a/b")).toBe("/abs");
    await writeFile(join(dir, "dangling"), "REF\nnope");
    await expect(openDiskFile(join(dir, "dangling"), { registry })).rejects.toThrow(
      `Could not open '${join(dir, "nope")}': No such file or directory`,
    );
  });
});

describe("createDiskFile", () => {
  it("leaves an existing file untouched when the driver fails, and replaces it on success", async () => {
    const reg = new FormatRegistry();
    let fail = true;
    reg.register({
      ...ref,
      name: "mk",
      probe: () => 0,
      async create(source) {
        if (fail) throw new UnsupportedError("Invalid parameter 'x'");
        await source.write(0, new TextEncoder().encode("REF\n"));
        return ref.open(source);
      },
    });
    const sub = join(dir, "create");
    await mkdir(sub);
    const path = join(sub, "keep.img");
    await writeFile(path, "precious");
    await expect(createDiskFile(path, "mk", { size: 1 }, reg)).rejects.toThrow("Invalid parameter 'x'");
    expect(await readFile(path, "utf8")).toBe("precious");
    expect(await readdir(sub)).toEqual(["keep.img"]);
    fail = false;
    const img = await createDiskFile(path, "mk", { size: 1 }, reg);
    expect(img.source.name).toBe(path);
    await img.close();
    expect(await readFile(path, "utf8")).toBe("REF\n");
    expect(await readdir(sub)).toEqual(["keep.img"]);
  });

  it("names the requested path when its directory does not exist", async () => {
    const path = join(dir, "no-such-dir", "x.img");
    await expect(createDiskFile(path, "ref", {}, registry)).rejects.toThrow(
      `Could not open '${path}': No such file or directory`,
    );
  });

  it("creates sibling files next to the image, and a failed create leaves existing siblings alone", async () => {
    const reg = new FormatRegistry();
    let fail = false;
    reg.register({
      ...ref,
      name: "pair",
      probe: () => 0,
      async create(source, options) {
        const data = await options.openSibling?.("pair-data", source.name, { create: true });
        await data?.write(0, new TextEncoder().encode("new data"));
        await data?.close();
        if (fail) throw new UnsupportedError("late failure");
        await source.write(0, new TextEncoder().encode("REF\n"));
        return ref.open(source);
      },
    });
    const sub = join(dir, "pair");
    await mkdir(sub);
    const path = join(sub, "pair.img");
    const img = await createDiskFile(path, "pair", {}, reg);
    await img.close();
    expect((await readdir(sub)).sort()).toEqual(["pair-data", "pair.img"]);
    expect(await readFile(join(sub, "pair-data"), "utf8")).toBe("new data");
    await writeFile(join(sub, "pair-data"), "old data");
    fail = true;
    await expect(createDiskFile(path, "pair", {}, reg)).rejects.toThrow("late failure");
    expect(await readFile(join(sub, "pair-data"), "utf8")).toBe("old data");
    expect((await readdir(sub)).sort()).toEqual(["pair-data", "pair.img"]);
  });
});
