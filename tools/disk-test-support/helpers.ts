// Test-only helpers shared by the disk-format packages' tests (disk-vdi, disk-vhd,
// disk-vmdk): host files as ByteSources, qemu-img/qemu-io runners and a pattern generator.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type ByteSource, type DiskImage, MemoryByteSource } from "@backplane/disk";
import { FileByteSource } from "@backplane/host-node";

export function fileSource(path: string, readOnly = false): Promise<ByteSource> {
  return FileByteSource.open(path, { readOnly });
}

/** Creates (or empties) `path` and opens it writable. */
export function newFileSource(path: string): Promise<ByteSource> {
  return FileByteSource.create(path);
}

export const hasQemu =
  spawnSync("qemu-img", ["--version"]).status === 0 && spawnSync("qemu-io", ["--version"]).status === 0;
if (!hasQemu) console.warn("qemu-img/qemu-io not found: the tests judged by QEMU are skipped");

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "backplane-"));
}

export function qemuImg(...args: string[]): string {
  return execFileSync("qemu-img", args, { encoding: "utf8" });
}

/** Runs qemu-img and returns its exit status and output (`out` with stderr) instead of throwing. */
export function qemuImgStatus(...args: string[]): { status: number; out: string; stdout: string } {
  const r = spawnSync("qemu-img", args, { encoding: "utf8" });
  return { status: r.status ?? -1, out: r.stdout + r.stderr, stdout: r.stdout };
}

export function qemuIo(file: string, format: string, ...cmds: string[]): void {
  execFileSync("qemu-io", ["-f", format, ...cmds.flatMap((c) => ["-c", c]), file], { encoding: "utf8" });
}

export function qemuInfo(file: string, format?: string): Record<string, unknown> {
  return JSON.parse(qemuImg("info", "--output=json", ...(format ? ["-f", format] : []), file));
}

/** Deterministic pseudo-random bytes (xorshift32), never all zero. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

/** One golden fixture, as fixtures/make-fixtures.sh recorded it from qemu-img. */
export interface Fixture {
  file: string;
  format: string;
  options: string;
  "virtual-size": number;
  "raw-sha256": string;
}

/** The manifest of a package's golden fixtures (`dir` is its fixtures folder). */
export function fixtures(dir: string): Fixture[] {
  return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
}

/** A fixture's gunzipped image as a read-only in-memory ByteSource. */
export function fixtureSource(dir: string, fixture: Fixture): ByteSource {
  return new MemoryByteSource(fixture.file, gunzipSync(readFileSync(join(dir, fixture.file))), {
    readOnly: true,
  });
}

/** SHA-256 (hex) of an image's whole virtual content, read in 1 MiB pieces. */
export async function contentSha256(image: DiskImage): Promise<string> {
  const hash = createHash("sha256");
  const buf = new Uint8Array(1 << 20);
  for (let at = 0; at < image.size; at += buf.length) {
    const part = buf.subarray(0, Math.min(buf.length, image.size - at));
    await image.read(at, part);
    hash.update(part);
  }
  return hash.digest("hex");
}

/**
 * Issues 24 disjoint unaligned writes to `image` at once (Promise.all), the way a
 * device with many requests in flight does, and returns the disk content they make.
 */
export async function concurrentWrites(image: DiskImage): Promise<Uint8Array> {
  const expected = new Uint8Array(image.size);
  const stride = Math.floor(image.size / 24);
  const writes = Array.from({ length: 24 }, (_, i) => {
    const data = pattern(Math.min(50_000 + i * 1000, stride - 7 * i), i + 100);
    const offset = i * stride + 7 * i;
    expected.set(data, offset);
    return image.write(offset, data);
  });
  await Promise.all(writes);
  return expected;
}
