// Test-only helpers: a ByteSource over a host file and qemu-img/qemu-io runners.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ByteSource } from "@backplane/disk";

export async function fileSource(path: string, readOnly = false): Promise<ByteSource> {
  const fh: FileHandle = await open(path, readOnly ? "r" : "r+");
  return {
    name: path,
    readOnly,
    size: async () => (await fh.stat()).size,
    read: async (offset, dest) => {
      let done = 0;
      while (done < dest.length) {
        const { bytesRead } = await fh.read(dest, done, dest.length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    },
    write: async (offset, src) => {
      await fh.write(src, 0, src.length, offset);
    },
    truncate: (size) => fh.truncate(size),
    flush: () => fh.sync(),
    close: () => fh.close(),
  };
}

/** Creates an empty file and opens it writable. */
export async function newFileSource(path: string): Promise<ByteSource> {
  (await open(path, "w")).close();
  return fileSource(path);
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

/** Runs qemu-img and returns its exit status instead of throwing. */
export function qemuImgStatus(...args: string[]): { status: number; out: string } {
  const r = spawnSync("qemu-img", args, { encoding: "utf8" });
  return { status: r.status ?? -1, out: r.stdout + r.stderr };
}

export function qemuIo(file: string, format: string, ...cmds: string[]): void {
  execFileSync("qemu-io", ["-f", format, ...cmds.flatMap((c) => ["-c", c]), file], { encoding: "utf8" });
}

export function qemuInfo(file: string): Record<string, unknown> {
  return JSON.parse(qemuImg("info", "--output=json", file));
}
