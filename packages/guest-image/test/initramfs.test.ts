import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CorruptDataError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { buildInitramfs, busyboxApplets, INIT_SCRIPT, initramfsEntries, writeCpio } from "../src/index.js";
import { listCpio } from "./cpio-peer.js";
import { pattern, read, run, tempDir } from "./helpers.js";

/** A stand-in BusyBox: random bytes around the applet name table BusyBox embeds. */
function fakeBusybox(): Uint8Array {
  const table = new TextEncoder().encode("[\0[[\0ash\0busybox\0cat\0insmod\0mount\0sh\0");
  const junk = pattern(300, 9).map((b) => (b === 0x5b ? 0 : b));
  const out = new Uint8Array(junk.length * 2 + table.length + 4);
  out.set(junk);
  out.set(table, junk.length);
  out.set([0x01, 0x7a, 0x02, 0], junk.length + table.length);
  out.set(junk, junk.length + table.length + 4);
  return out;
}

describe("busyboxApplets", () => {
  it("reads the sorted applet table and stops at its end", () => {
    expect(busyboxApplets(fakeBusybox())).toEqual([
      "[",
      "[[",
      "ash",
      "busybox",
      "cat",
      "insmod",
      "mount",
      "sh",
    ]);
  });

  it("rejects a binary without the table", () => {
    expect(() => busyboxApplets(pattern(100, 2).map((b) => (b === 0x5b ? 1 : b)))).toThrow(CorruptDataError);
  });
});

describe("buildInitramfs", () => {
  const modules = [
    { name: "virtio_mmio.ko", data: pattern(50, 1) },
    { name: "virtio_blk.ko", data: pattern(60, 2) },
  ];

  it("is a gzip of the cpio that host gzip decompresses, byte-identical across builds", () => {
    const image = buildInitramfs({ busybox: fakeBusybox(), modules });
    expect(buildInitramfs({ busybox: fakeBusybox(), modules })).toEqual(image);
    expect(image.subarray(4, 8)).toEqual(new Uint8Array(4)); // gzip MTIME is zero
    const dir = tempDir();
    writeFileSync(join(dir, "initrd.gz"), image);
    run(dir, "sh", ["-c", "gzip -dc initrd.gz > initrd.cpio"]);
    expect(read(join(dir, "initrd.cpio"))).toEqual(
      writeCpio(initramfsEntries({ busybox: fakeBusybox(), modules })),
    );
  });

  it("holds busybox, applet links, the console node, /init and the module list", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "initrd.gz"), buildInitramfs({ busybox: fakeBusybox(), modules }));
    run(dir, "sh", ["-c", "gzip -dc initrd.gz > initrd.cpio"]);
    const by = new Map((await listCpio(read(join(dir, "initrd.cpio")))).map((e) => [e.name, e]));
    expect(by.get("bin/busybox")).toMatchObject({ type: "file", mode: 0o755, data: fakeBusybox() });
    for (const applet of ["[", "[[", "ash", "cat", "insmod", "mount", "sh"]) {
      expect(by.get(`bin/${applet}`)).toMatchObject({ type: "symlink", linkname: "busybox" });
    }
    expect(by.get("sbin")).toMatchObject({ type: "symlink", linkname: "bin" });
    expect(by.get("usr/bin")).toMatchObject({ type: "symlink", linkname: "../bin" });
    expect(by.get("dev/console")).toMatchObject({ type: "character-device", rdev: [5, 1] });
    for (const d of ["proc", "sys", "dev", "tmp", "lib/modules"]) expect(by.get(d)?.type).toBe("directory");
    expect(by.get("init")).toMatchObject({ type: "file", mode: 0o755 });
    expect(new TextDecoder().decode(by.get("init")?.data)).toBe(INIT_SCRIPT);
    expect(new TextDecoder().decode(by.get("etc/modules")?.data)).toBe("virtio_mmio.ko\nvirtio_blk.ko\n");
    expect(by.get("lib/modules/virtio_blk.ko")?.data).toEqual(modules[1].data);
  });

  it("leaves /etc/modules out without modules", () => {
    expect(initramfsEntries({ busybox: fakeBusybox() }).some((e) => e.path === "etc/modules")).toBe(false);
  });

  it("has an /init that the host shell parses", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "init"), INIT_SCRIPT);
    expect(() => run(dir, "sh", ["-n", "init"])).not.toThrow();
  });
});
