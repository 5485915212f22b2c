import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CorruptDataError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { readAr } from "../src/index.js";
import { pattern, read, run, tempDir } from "./helpers.js";

describe("readAr (archives written by GNU ar)", () => {
  it("reads short names, GNU long names and odd sizes, in order", () => {
    const dir = tempDir();
    const files: Record<string, Uint8Array> = {
      "debian-binary": new TextEncoder().encode("2.0\n"),
      odd: pattern(3, 1),
      "a-rather-long-member-name.tar.xz": pattern(1001, 2),
      empty: new Uint8Array(0),
    };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    run(dir, "ar", ["rcD", "x.a", ...Object.keys(files)]);
    const members = readAr(read(join(dir, "x.a")));
    // ar's own table of contents is the reference for names and order.
    expect(members.map((m) => m.name)).toEqual(run(dir, "ar", ["t", "x.a"]).trim().split("\n"));
    for (const m of members) {
      expect(m.data).toEqual(files[m.name]);
      // Deterministic mode (D): zero timestamps and ids, mode 644.
      expect([m.mtime, m.uid, m.gid, m.mode]).toEqual([0, 0, 0, 0o644]);
    }
  });

  it("rejects a file without the magic and a truncated member", () => {
    expect(() => readAr(new TextEncoder().encode("not an archive"))).toThrow(CorruptDataError);
    const dir = tempDir();
    writeFileSync(join(dir, "f"), pattern(500, 3));
    run(dir, "ar", ["rcD", "x.a", "f"]);
    const bytes = read(join(dir, "x.a"));
    expect(() => readAr(bytes.subarray(0, bytes.length - 10))).toThrow(/runs past the end/);
  });
});
