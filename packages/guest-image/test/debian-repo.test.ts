import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CorruptDataError, NotFoundError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import {
  ChecksumMismatchError,
  parseDeb822,
  parseDepends,
  parsePackages,
  parseRelease,
  parseSourcesDeb822,
  parseSourcesList,
  primaryMirror,
  resolveMetapackage,
  sha256Hex,
  verifySha256,
} from "../src/index.js";
import { pattern, read, run, tempDir } from "./helpers.js";

function buildDeb(dir: string, name: string, version: string, depends?: string): void {
  const root = join(dir, `${name}-root`);
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  writeFileSync(join(root, "payload"), pattern(100 + name.length, name.length));
  writeFileSync(
    join(root, "DEBIAN/control"),
    `Package: ${name}\nVersion: ${version}\nArchitecture: riscv64\nMaintainer: T <t@example.org>\n${depends ? `Depends: ${depends}\n` : ""}Description: test\n long description\n .\n second paragraph\n`,
  );
  mkdirSync(join(dir, "pool"), { recursive: true });
  run(dir, "dpkg-deb", ["--root-owner-group", "--build", root, `pool/${name}_${version}_riscv64.deb`]);
}

describe("parsePackages on an index written by dpkg-scanpackages", () => {
  it("reads name, version, filename, size, SHA-256 and Depends of each package", async () => {
    const dir = tempDir();
    buildDeb(
      dir,
      "linux-image-9.9.9-riscv64",
      "9.9.9-1",
      "kmod, initramfs-tools (>= 0.120) | linux-initramfs-tool",
    );
    buildDeb(dir, "linux-image-riscv64", "9.9.9-1", "linux-image-9.9.9-riscv64 (= 9.9.9-1)");
    buildDeb(dir, "busybox-static", "1:1.37.0-6");
    const text = run(dir, "dpkg-scanpackages", ["-m", "pool", "/dev/null"]);
    const packages = parsePackages(text);
    expect([...packages.keys()].sort()).toEqual([
      "busybox-static",
      "linux-image-9.9.9-riscv64",
      "linux-image-riscv64",
    ]);
    for (const p of packages.values()) {
      const deb = read(join(dir, p.filename));
      expect(p.size).toBe(deb.length);
      // sha256sum is the peer for the digest we compute and the one in the index.
      const [peer] = run(dir, "sha256sum", [p.filename]).split(" ");
      expect(p.sha256).toBe(peer);
      expect(await sha256Hex(deb)).toBe(peer);
      await verifySha256(deb, p, p.filename);
    }
    expect(packages.get("busybox-static")).toMatchObject({
      version: "1:1.37.0-6",
      architecture: "riscv64",
      depends: [],
    });
    expect(packages.get("linux-image-9.9.9-riscv64")?.depends).toEqual([
      ["kmod"],
      ["initramfs-tools", "linux-initramfs-tool"],
    ]);
    const kernel = resolveMetapackage(packages, "linux-image-riscv64", /^linux-image-[0-9].*-riscv64$/);
    expect(kernel.package).toBe("linux-image-9.9.9-riscv64");
    expect(() => resolveMetapackage(packages, "busybox-static", /^linux-image-/)).toThrow(NotFoundError);
    expect(() => resolveMetapackage(packages, "opensbi", /x/)).toThrow(
      "package 'opensbi' is not in Packages",
    );
  });

  it("rejects paragraphs without a checksum", () => {
    expect(() =>
      parsePackages("Package: a\nVersion: 1\nArchitecture: all\nFilename: a.deb\nSize: 1\n"),
    ).toThrow(CorruptDataError);
  });
});

describe("Release files and checksum verification", () => {
  it("lists the SHA-256 of each index and verifies files against it, reporting both hashes on mismatch", async () => {
    const dir = tempDir();
    const packages = pattern(4000, 5);
    writeFileSync(join(dir, "Packages"), packages);
    run(dir, "xz", ["-k", "Packages"]);
    const sums = run(dir, "sha256sum", ["Packages", "Packages.xz"]).trim().split("\n");
    const sizes = [packages.length, read(join(dir, "Packages.xz")).length];
    const release = parseRelease(
      [
        "Origin: Debian",
        "Suite: stable",
        "Codename: trixie",
        "Date: Sat, 01 Nov 2025 10:00:00 UTC",
        "Acquire-By-Hash: yes",
        "Architectures: all amd64 riscv64",
        "Components: main contrib",
        "MD5Sum:",
        " 00000000000000000000000000000000 1 main/ignored",
        "SHA256:",
        ...sums.map((l, i) => {
          const [sum, name] = l.split(/\s+/);
          return ` ${sum} ${String(sizes[i]).padStart(9)} main/binary-riscv64/${name}`;
        }),
        "",
      ].join("\n"),
    );
    expect(release).toMatchObject({
      codename: "trixie",
      suite: "stable",
      architectures: ["all", "amd64", "riscv64"],
    });
    expect(release.components).toEqual(["main", "contrib"]);
    expect(release.sha256.size).toBe(2);
    const entry = release.sha256.get("main/binary-riscv64/Packages.xz");
    expect(entry?.size).toBe(sizes[1]);
    await verifySha256(read(join(dir, "Packages.xz")), entry as { sha256: string }, "Packages.xz");

    const tampered = read(join(dir, "Packages.xz")).slice();
    tampered[20] ^= 1;
    const actual = await sha256Hex(tampered);
    const err = await verifySha256(tampered, entry as { sha256: string }, "http://m/Packages.xz").catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect(err.message).toBe(
      `http://m/Packages.xz: checksum mismatch: expected ${entry?.sha256}, got ${actual}`,
    );
    await expect(
      verifySha256(tampered.subarray(1), entry as { sha256: string; size: number }, "x"),
    ).rejects.toThrow(/size.*expected \d+ bytes, got \d+ bytes/);
  });

  it("rejects a Release without SHA256 sums", () => {
    expect(() => parseRelease("Codename: trixie\nMD5Sum:\n 0 1 x\n")).toThrow(/no SHA256/);
    expect(parseRelease(`SHA256:\n ${"0".repeat(64)} 1 x\n`).acquireByHash).toBe(false);
  });
});

describe("deb822 and apt sources", () => {
  it("joins continuation lines, lower-cases field names and skips comments", () => {
    const [a, b] = parseDeb822("# c\nPackage: a\nDescription: one\n two\n\n\nPACKAGE: b\r\n");
    expect(a.get("description")).toBe("one\ntwo");
    expect(b.get("package")).toBe("b");
    expect(() => parseDeb822(" orphan\n")).toThrow(CorruptDataError);
  });

  it("parses Depends with versions, alternatives and qualifiers", () => {
    expect(parseDepends("a (>= 1), b:any | c [amd64], ")).toEqual([["a"], ["b", "c"]]);
  });

  it("picks the first http mirror that carries a release suite", () => {
    const deb822 = parseSourcesDeb822(
      [
        "Types: deb-src",
        "URIs: http://src.invalid/debian",
        "Suites: bookworm",
        "",
        "Types: deb",
        "URIs: http://off.invalid/debian",
        "Suites: bookworm",
        "Enabled: no",
        "",
        "Types: deb",
        "URIs: http://sec.invalid/debian-security",
        "Suites: bookworm-security",
        "",
        "Types: deb deb-src",
        "URIs: https://main.invalid/debian/",
        "Suites: bookworm bookworm-updates",
        "Components: main",
      ].join("\n"),
    );
    expect(deb822.map((s) => s.uri)).toEqual([
      "http://sec.invalid/debian-security",
      "https://main.invalid/debian/",
    ]);
    expect(primaryMirror(deb822)).toBe("https://main.invalid/debian");
    const list = parseSourcesList(
      "# comment\ndeb cdrom:[Debian]/ bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://one.invalid/debian bookworm main\n",
    );
    expect(list).toEqual([
      { uri: "cdrom:[Debian]/", suites: ["bookworm"], components: ["main"] },
      { uri: "http://one.invalid/debian", suites: ["bookworm"], components: ["main"] },
    ]);
    expect(primaryMirror(list)).toBe("http://one.invalid/debian");
    expect(primaryMirror([])).toBeUndefined();
  });
});
