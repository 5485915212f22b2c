import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CorruptDataError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { decompressStream, readTar, streamOf, type TarEntry } from "../src/index.js";
import { pattern, read, run, tempDir } from "./helpers.js";

const MTIME = 1_700_000_000;
const isRoot = process.getuid?.() === 0;
const deepPath = `deep/${"d".repeat(60)}/${"e".repeat(60)}/file.txt`;
const longTarget = `${"t".repeat(120)}/target`;

/** Builds a tree with every entry type; returns the folder and the file contents. */
function makeTree(withLongLinkTarget: boolean): { dir: string; files: Map<string, Uint8Array> } {
  const dir = tempDir();
  const root = join(dir, "root");
  const files = new Map<string, Uint8Array>([
    ["dir/file.bin", pattern(1500, 7)],
    [deepPath, new TextEncoder().encode("deep\n")],
    ["empty", new Uint8Array(0)],
  ]);
  mkdirSync(join(root, "dir"), { recursive: true, mode: 0o750 });
  mkdirSync(join(root, deepPath, ".."), { recursive: true });
  for (const [p, data] of files) writeFileSync(join(root, p), data, { mode: 0o640 });
  symlinkSync("dir/file.bin", join(root, "link"));
  if (withLongLinkTarget) symlinkSync(longTarget, join(root, "longlink"));
  run(root, "ln", ["dir/file.bin", "hard"]);
  run(root, "mkfifo", ["-m", "600", "fifo"]);
  if (isRoot) run(root, "mknod", ["-m", "600", "console", "c", "5", "1"]);
  run(root, "chmod", ["750", "dir"]);
  return { dir, files };
}

async function entries(
  stream: ReadableStream<Uint8Array>,
  wantData?: (e: TarEntry) => boolean,
): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for await (const e of readTar(stream, { wantData })) out.push(e);
  return out;
}

function tarArgs(format: string): string[] {
  return [
    `--format=${format}`,
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    `--mtime=@${MTIME}`,
  ];
}

describe.each(["gnu", "pax", "ustar"])("readTar on GNU tar --format=%s", (format) => {
  it("reads every entry type with the metadata tar wrote", async () => {
    const { dir, files } = makeTree(format !== "ustar");
    const extra = format === "pax" ? ["--pax-option=comment=global-header"] : [];
    run(dir, "tar", ["-cf", "t.tar", ...tarArgs(format), ...extra, "-C", "root", "."]);
    const list = await entries(streamOf(read(join(dir, "t.tar"))));

    // GNU tar's own listing is the reference for the set and order of names.
    const names = run(dir, "tar", ["-tf", "t.tar"]).trim().split("\n");
    expect(list.map((e) => e.path)).toEqual(
      names.map((n) => n.replace(/^\.\//, "").replace(/\/$/, "") || "."),
    );

    const byPath = new Map(list.map((e) => [e.path, e]));
    for (const [p, data] of files) {
      expect(byPath.get(p)).toMatchObject({
        type: "file",
        mode: 0o640,
        size: data.length,
        mtime: MTIME,
        uid: 0,
        gid: 0,
      });
      expect(byPath.get(p)?.data).toEqual(data);
    }
    expect(byPath.get("dir")).toMatchObject({ type: "directory", mode: 0o750 });
    expect(byPath.get("link")).toMatchObject({ type: "symlink", linkPath: "dir/file.bin" });
    expect(byPath.get("hard")).toMatchObject({ type: "hardlink", linkPath: "dir/file.bin", size: 0 });
    expect(byPath.get("fifo")).toMatchObject({ type: "fifo", mode: 0o600 });
    if (isRoot) expect(byPath.get("console")).toMatchObject({ type: "chardev", devMajor: 5, devMinor: 1 });
    if (format !== "ustar")
      expect(byPath.get("longlink")).toMatchObject({ type: "symlink", linkPath: longTarget });
  });
});

describe("readTar on compressed and damaged archives", () => {
  it("gives the same entries through xz and gzip as from the plain archive", async () => {
    const { dir } = makeTree(true);
    run(dir, "tar", ["-cf", "t.tar", ...tarArgs("gnu"), "-C", "root", "."]);
    run(dir, "sh", ["-c", "xz -k t.tar && gzip -k t.tar"]);
    const plain = await entries(streamOf(read(join(dir, "t.tar"))));
    expect(await entries(decompressStream(read(join(dir, "t.tar.xz"))))).toEqual(plain);
    expect(await entries(decompressStream(read(join(dir, "t.tar.gz"))))).toEqual(plain);
  });

  it("keeps only the contents wantData selects", async () => {
    const { dir, files } = makeTree(false);
    run(dir, "tar", ["-cf", "t.tar", ...tarArgs("gnu"), "-C", "root", "."]);
    const list = await entries(streamOf(read(join(dir, "t.tar"))), (e) => e.path === deepPath);
    expect(list.find((e) => e.path === deepPath)?.data).toEqual(files.get(deepPath));
    expect(list.find((e) => e.path === "dir/file.bin")?.data).toBeUndefined();
  });

  it("reports a bad header checksum and a truncated archive", async () => {
    const { dir } = makeTree(false);
    run(dir, "tar", ["-cf", "t.tar", ...tarArgs("gnu"), "-C", "root", "."]);
    const bytes = read(join(dir, "t.tar"));
    const damaged = bytes.slice();
    damaged[10] ^= 0x01;
    await expect(entries(streamOf(damaged))).rejects.toThrow(/checksum mismatch/);
    // Cut in the middle of dir/file.bin's 1500-byte body.
    const body = Buffer.from(bytes).indexOf(Buffer.from(pattern(1500, 7).subarray(0, 32)));
    expect(body).toBeGreaterThan(0);
    const cut = bytes.subarray(0, body + 700);
    await expect(entries(streamOf(cut))).rejects.toThrow(CorruptDataError);
    await expect(entries(streamOf(cut))).rejects.toThrow(/truncated/);
  });

  it("reports corrupt xz data as CorruptDataError naming the input", async () => {
    const { dir } = makeTree(false);
    run(dir, "tar", ["-cJf", "t.tar.xz", ...tarArgs("gnu"), "-C", "root", "."]);
    const bytes = read(join(dir, "t.tar.xz")).slice();
    bytes[bytes.length >> 1] ^= 0xff;
    await expect(entries(decompressStream(bytes, "t.tar.xz"))).rejects.toThrow(/t\.tar\.xz: xz/);
  });
});
