import { mkdtempSync, readdirSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readFileIfExists, userCacheDir, writeFileAtomic } from "./cache.js";

describe("userCacheDir", () => {
  it("follows an absolute XDG_CACHE_HOME and falls back to ~/.cache", () => {
    expect(userCacheDir("bp", { XDG_CACHE_HOME: "/var/cache/x" })).toBe("/var/cache/x/bp");
    expect(userCacheDir("bp", { XDG_CACHE_HOME: "relative" })).toBe(join(homedir(), ".cache", "bp"));
    expect(userCacheDir("bp", {})).toBe(join(homedir(), ".cache", "bp"));
  });
});

describe("writeFileAtomic / readFileIfExists", () => {
  it("creates folders, replaces content and leaves no temporary file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cache-"));
    const path = join(dir, "a", "b", "f.bin");
    expect(await readFileIfExists(path)).toBeUndefined();
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, "xy");
    expect(await readFileIfExists(path)).toEqual(new TextEncoder().encode("xy"));
    expect(readdirSync(join(dir, "a", "b"))).toEqual(["f.bin"]);
  });
});
