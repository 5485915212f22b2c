import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CorruptDataError, NotFoundError, UnsupportedError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { extractDebFiles, openDeb } from "../src/index.js";
import { pattern, read, run, tempDir } from "./helpers.js";

const kernel = pattern(70_000, 11);
const tool = pattern(3_333, 12);

/** Builds a .deb with dpkg-deb using the given data.tar compression. */
function buildDeb(compression: string): string {
  const dir = tempDir();
  const root = join(dir, "pkg");
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  mkdirSync(join(root, "boot"));
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  writeFileSync(
    join(root, "DEBIAN/control"),
    "Package: demo\nVersion: 1.0-1\nArchitecture: riscv64\nMaintainer: Test <t@example.org>\nDescription: demo\n",
  );
  writeFileSync(join(root, "boot/vmlinux-1.0-riscv64"), kernel);
  writeFileSync(join(root, "usr/bin/tool"), tool, { mode: 0o755 });
  run(dir, "ln", ["-s", "tool", "pkg/usr/bin/alias"]);
  run(dir, "dpkg-deb", ["--root-owner-group", `-Z${compression}`, "--build", "pkg", "demo.deb"]);
  return join(dir, "demo.deb");
}

describe("extractDebFiles on packages built by dpkg-deb", () => {
  it.each(["xz", "gzip", "none"])("extracts named files from a data.tar compressed with %s", async (z) => {
    const path = buildDeb(z);
    const deb = read(path);
    const members = run(join(path, ".."), "ar", ["t", "demo.deb"]).trim().split("\n");
    const { control, data } = openDeb(deb, "demo");
    expect(members).toContain(control.name);
    expect(members).toContain(data.name);
    const files = await extractDebFiles(deb, ["usr/bin/tool", "boot/vmlinux-1.0-riscv64"], "demo");
    expect(files.get("boot/vmlinux-1.0-riscv64")).toEqual(kernel);
    expect(files.get("usr/bin/tool")).toEqual(tool);
  });

  it("extracts every regular file a predicate accepts, reading xz data.tar to its end", async () => {
    const files = await extractDebFiles(read(buildDeb("xz")), (p) => p.startsWith("usr/"), "demo");
    // usr/bin/alias is a symlink: a predicate selects regular files only.
    expect([...files.keys()]).toEqual(["usr/bin/tool"]);
    expect(files.get("usr/bin/tool")).toEqual(tool);
  });

  it("names the package and path that are missing, and refuses symlinks", async () => {
    const deb = read(buildDeb("xz"));
    await expect(extractDebFiles(deb, ["usr/bin/tool", "boot/nothing"], "demo")).rejects.toThrow(
      NotFoundError,
    );
    await expect(extractDebFiles(deb, ["boot/nothing"], "demo")).rejects.toThrow(
      "demo: 'boot/nothing' is not in data.tar.xz",
    );
    await expect(extractDebFiles(deb, ["usr/bin/alias"], "demo")).rejects.toThrow(/is a symlink/);
  });

  it("reports zstd as unsupported and a non-.deb as corrupt", async () => {
    await expect(extractDebFiles(read(buildDeb("zstd")), ["usr/bin/tool"], "demo")).rejects.toThrow(
      UnsupportedError,
    );
    const dir = tempDir();
    writeFileSync(join(dir, "x"), "x");
    run(dir, "ar", ["rcD", "x.a", "x"]);
    expect(() => openDeb(read(join(dir, "x.a")), "x.a")).toThrow(CorruptDataError);
  });
});
