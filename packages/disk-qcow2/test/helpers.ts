/**
 * Test helpers: a ByteSource over node:fs, qemu-img/qemu-io runners (the
 * judges), and an opener for images and their backing chains.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import {
  type ByteSource,
  chainOpener,
  type DiskImage,
  FormatRegistry,
  type SourceResolver,
} from "@backplane/disk";
import { Qcow2Image, type Qcow2OpenOptions } from "../src/image.js";
import { qcow2 } from "../src/index.js";

/** A host file as a ByteSource (tests only; the product one lives in @backplane/host-node). */
export class FileSource implements ByteSource {
  private constructor(
    readonly name: string,
    private readonly fh: FileHandle,
    readonly readOnly: boolean,
  ) {}

  static async open(path: string, readOnly = false): Promise<FileSource> {
    return new FileSource(path, await open(path, readOnly ? "r" : "r+"), readOnly);
  }

  static async create(path: string): Promise<FileSource> {
    return new FileSource(path, await open(path, "w+"), false);
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }
  async read(offset: number, dest: Uint8Array): Promise<number> {
    let got = 0;
    while (got < dest.length) {
      const { bytesRead } = await this.fh.read(dest, got, dest.length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got;
  }
  async write(offset: number, src: Uint8Array): Promise<void> {
    let done = 0;
    while (done < src.length) {
      const { bytesWritten } = await this.fh.write(src, done, src.length - done, offset + done);
      done += bytesWritten;
    }
  }
  async truncate(size: number): Promise<void> {
    await this.fh.truncate(size);
  }
  async flush(): Promise<void> {
    await this.fh.sync();
  }
  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** True when Debian's qemu-img and qemu-io are installed. */
export const hasQemu =
  spawnSync("qemu-img", ["--version"]).status === 0 && spawnSync("qemu-io", ["--version"]).status === 0;
if (!hasQemu) console.warn("qemu-img/qemu-io not found: tests judged by QEMU are skipped");

/** Runs qemu-img; returns stdout. Throws on a non-zero exit. */
export function qemuImg(...args: string[]): string {
  return execFileSync("qemu-img", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs qemu-img and returns its exit status and output without throwing. */
export function qemuImgStatus(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("qemu-img", args, { encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs qemu-io commands (`-c` each) on an image. */
export function qemuIo(path: string, commands: string[], format = "qcow2"): string {
  const args = ["-f", format];
  for (const c of commands) args.push("-c", c);
  args.push(path);
  const out = execFileSync("qemu-io", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (/error|failed/i.test(out)) throw new Error(`qemu-io: ${out}`);
  return out;
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "bp-qcow2-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The raw format, minimal, for backing files in tests. */
const rawForTests = {
  name: "raw",
  probe: () => 1,
  async open(source: ByteSource): Promise<DiskImage> {
    const size = await source.size();
    return {
      format: "raw",
      source,
      size,
      readOnly: true,
      blockSize: 512,
      async read(offset: number, dest: Uint8Array) {
        dest.fill(0, await source.read(offset, dest));
      },
      write: async () => {
        throw new Error("read-only");
      },
      flush: async () => {},
      close: () => source.close(),
      info: async () => ({ filename: source.name, format: "raw", "virtual-size": size }),
      blockStatus: async (start: number, length: number) => [
        { start, length, depth: 0, data: true, zero: false },
      ],
    };
  },
  create: async () => {
    throw new Error("not in tests");
  },
};

export const registry = new FormatRegistry();
registry.register(qcow2);
registry.register(rawForTests);

const resolver: SourceResolver = async (name, relativeTo, readOnly) => {
  const path = isAbsolute(name) ? name : resolve(dirname(relativeTo), name);
  return { source: await FileSource.open(path, readOnly), key: path };
};

/** Opens an image file with its backing chain. */
export async function openImage(path: string, options: Qcow2OpenOptions = {}): Promise<Qcow2Image> {
  const source = await FileSource.open(path, options.readOnly ?? false);
  return Qcow2Image.open(source, {
    openBacking: chainOpener(resolver, { registry, chain: [path] }),
    ...options,
  });
}

/** Reads a whole image through our driver. */
export async function readAll(img: DiskImage): Promise<Uint8Array> {
  const out = new Uint8Array(img.size);
  const step = 4 << 20;
  for (let o = 0; o < img.size; o += step) await img.read(o, out.subarray(o, Math.min(img.size, o + step)));
  return out;
}

/** What qemu reads from an image (`qemu-img convert -O raw`). */
export function qemuRaw(path: string, dir: string): Uint8Array {
  const out = join(dir, `raw-${Math.random().toString(36).slice(2)}.img`);
  qemuImg("convert", "-O", "raw", path, out);
  const data = new Uint8Array(readFileSync(out));
  rmSync(out);
  return data;
}

/** A deterministic PRNG (mulberry32) for seeded random tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Creates a qcow2 image file with our driver. */
export async function createImage(
  path: string,
  size: number,
  options: Record<string, string> = {},
  backing?: { file: string; format: string },
): Promise<Qcow2Image> {
  const source = await FileSource.create(path);
  return (await qcow2.create(source, {
    size,
    options,
    backingFile: backing?.file,
    backingFormat: backing?.format,
    openBacking: chainOpener(resolver, { registry, chain: [path] }),
  })) as Qcow2Image;
}

/** Asserts-free judge: qemu-img check's exit status and JSON. */
export function qemuCheck(path: string): { status: number; json: Record<string, number> } {
  const r = qemuImgStatus("check", "--output=json", path);
  return { status: r.status, json: r.stdout ? JSON.parse(r.stdout) : {} };
}

/** qemu-img compare of an image against expected raw bytes; returns the exit status (0 = identical). */
export function qemuCompare(
  path: string,
  expected: Uint8Array,
  dir: string,
): { status: number; out: string } {
  const raw = join(dir, `expect-${Math.random().toString(36).slice(2)}.raw`);
  writeFileSync(raw, expected);
  const r = qemuImgStatus("compare", "-f", "qcow2", "-F", "raw", path, raw);
  rmSync(raw);
  return { status: r.status, out: r.stdout + r.stderr };
}
