import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { type CpioEntry, writeCpio } from "../src/index.js";
import { listCpio } from "./cpio-peer.js";
import { hasTool, pattern, run, tempDir } from "./helpers.js";

const entries: CpioEntry[] = [
  { type: "file", path: "usr/lib/data.bin", data: pattern(1001, 3) },
  { type: "symlink", path: "bin/sh", target: "busybox" },
  { type: "chardev", path: "dev/console", major: 5, minor: 1 },
  { type: "blockdev", path: "dev/vda", major: 254, minor: 0, mode: 0o660 },
  { type: "file", path: "bin/busybox", data: pattern(77, 4), mode: 0o755 },
  { type: "directory", path: "bin", mode: 0o700 },
  { type: "file", path: "init", data: new TextEncoder().encode("#!/bin/sh\n"), mode: 0o755 },
];

describe("writeCpio (newc), read back by cpio-stream", () => {
  it("writes sorted entries with parents, fixed owner and time, devices and link targets", async () => {
    const list = await listCpio(writeCpio(entries, { mtime: 1234 }));
    expect(list.map((e) => e.name)).toEqual([
      "bin",
      "bin/busybox",
      "bin/sh",
      "dev",
      "dev/console",
      "dev/vda",
      "init",
      "usr",
      "usr/lib",
      "usr/lib/data.bin",
    ]);
    const by = new Map(list.map((e) => [e.name, e]));
    for (const e of list) expect([e.uid, e.gid, e.mtime]).toEqual([0, 0, 1234]);
    expect(list.map((e) => e.ino)).toEqual(list.map((_, i) => i + 1));
    expect(by.get("bin")).toMatchObject({ type: "directory", mode: 0o700, nlink: 2 });
    expect(by.get("usr/lib")).toMatchObject({ type: "directory", mode: 0o755 });
    expect(by.get("bin/sh")).toMatchObject({ type: "symlink", linkname: "busybox" });
    expect(by.get("dev/console")).toMatchObject({ type: "character-device", mode: 0o600, rdev: [5, 1] });
    expect(by.get("dev/vda")).toMatchObject({ type: "block-device", mode: 0o660, rdev: [254, 0] });
    expect(by.get("bin/busybox")).toMatchObject({ type: "file", mode: 0o755, nlink: 1 });
    expect(by.get("usr/lib/data.bin")?.data).toEqual(pattern(1001, 3));
    expect(by.get("init")?.data).toEqual(new TextEncoder().encode("#!/bin/sh\n"));
  });

  it("is reproducible: input order does not change a byte", () => {
    const a = writeCpio(entries);
    const b = writeCpio([...entries].reverse());
    expect(b).toEqual(a);
    expect(a.length % 4).toBe(0);
    expect(new TextDecoder().decode(a.subarray(a.length - 124))).toContain("TRAILER!!!");
  });

  it("rejects absolute, dotted or duplicate paths and files used as folders", () => {
    for (const path of ["/abs", "a/../b", "a//b", ""]) {
      expect(() => writeCpio([{ type: "directory", path }])).toThrow(InvalidArgumentError);
    }
    expect(() => writeCpio([entries[0], entries[0]])).toThrow(/duplicate entry 'usr\/lib\/data.bin'/);
    expect(() =>
      writeCpio([
        { type: "file", path: "a", data: new Uint8Array(1) },
        { type: "file", path: "a/b", data: new Uint8Array(1) },
      ]),
    ).toThrow(/'a' is a file/);
  });

  it.skipIf(!hasTool("cpio"))("lists identically with host cpio -it", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "x.cpio"), writeCpio(entries));
    const names = run(dir, "sh", ["-c", "cpio -it --quiet < x.cpio"]).trim().split("\n");
    expect(names).toEqual([
      "bin",
      "bin/busybox",
      "bin/sh",
      "dev",
      "dev/console",
      "dev/vda",
      "init",
      "usr",
      "usr/lib",
      "usr/lib/data.bin",
    ]);
  });
});
