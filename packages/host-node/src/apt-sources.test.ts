import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readAptSourceFiles } from "./apt-sources.js";

describe("readAptSourceFiles", () => {
  it("reads sources.list first, then .list and .sources files by name, skipping others", async () => {
    const apt = mkdtempSync(join(tmpdir(), "apt-"));
    mkdirSync(join(apt, "sources.list.d"));
    writeFileSync(join(apt, "sources.list"), "deb http://a.invalid/debian bookworm main\n");
    writeFileSync(join(apt, "sources.list.d", "b.sources"), "Types: deb\n");
    writeFileSync(join(apt, "sources.list.d", "a.list"), "deb http://c.invalid/ x\n");
    writeFileSync(join(apt, "sources.list.d", "c.sources.disabled-by-admin"), "Types: deb\n");
    const files = await readAptSourceFiles(apt);
    expect(files.map((f) => [f.path.slice(apt.length), f.format])).toEqual([
      ["/sources.list", "one-line"],
      ["/sources.list.d/a.list", "one-line"],
      ["/sources.list.d/b.sources", "deb822"],
    ]);
    expect(files[2].text).toBe("Types: deb\n");
  });

  it("returns nothing for a missing apt folder", async () => {
    expect(await readAptSourceFiles(join(tmpdir(), "no-such-apt-dir"))).toEqual([]);
  });
});
