/**
 * Tiny golden images made by qemu (test/fixtures/make-fixtures.sh) read to the
 * bytes qemu read from them (sha256 recorded by the script); runs without QEMU.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { MemoryByteSource } from "@backplane/disk";
import { describe, expect, it } from "vitest";
import { Qcow2Image, qcow2 } from "../src/index.js";
import { readAll } from "./helpers.js";

const dir = new URL("./fixtures/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", dir), "utf8")) as Record<
  string,
  { sha256: string; "virtual-size": number }
>;

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function load(name: string, readOnly = true): Promise<Qcow2Image> {
  const bytes = new Uint8Array(readFileSync(new URL(name, dir)));
  expect(qcow2.probe(bytes.subarray(0, 512), bytes.length)).toBe(100);
  return Qcow2Image.open(new MemoryByteSource(name, bytes, { readOnly }));
}

describe("golden fixtures", () => {
  for (const [name, want] of Object.entries(expected).filter(([k]) => !k.includes("@"))) {
    it(`${name} reads as qemu read it`, async () => {
      const img = await load(name);
      expect(img.size).toBe(want["virtual-size"]);
      expect(sha(await readAll(img))).toBe(want.sha256);
      const check = await img.check();
      expect(check.corruptions ?? 0).toBe(0);
      expect(check.leaks ?? 0).toBe(0);
    });
  }

  it("applying the snapshot gives the content qemu read from it", async () => {
    const img = await load("v3-snapshot.qcow2", false);
    expect((await img.listSnapshots()).map((s) => s.name)).toEqual(["first"]);
    await img.applySnapshot("first");
    expect(sha(await readAll(img))).toBe(expected["v3-snapshot.qcow2@first"].sha256);
    expect((await img.check()).corruptions).toBeUndefined();
  });

  it("probe rejects other formats", () => {
    expect(qcow2.probe(new Uint8Array(512), 512)).toBe(0);
  });
});
