/**
 * Reproducible writer for the "newc" cpio format that Linux unpacks as an
 * initramfs.
 *
 * Spec: the kernel's Documentation/driver-api/early-userspace/buffer-format.rst
 * ("070701" ASCII headers of thirteen 8-digit hex fields, name and data each
 * padded to 4 bytes, a "TRAILER!!!" entry) and cpio(5) for the mode bits.
 * Reproducible: entries are sorted by path, missing parent directories are
 * added, every entry gets the same mtime (default 0), uid/gid 0 and inode
 * numbers in path order, so equal inputs give byte-identical archives.
 * Left out: the "070702" CRC variant, hard links, reading.
 */
import { InvalidArgumentError } from "@backplane/core";

/** One archive member; paths are relative ("bin/sh", not "/bin/sh"). */
export type CpioEntry =
  | { type: "directory"; path: string; mode?: number }
  | { type: "file"; path: string; data: Uint8Array; mode?: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "chardev" | "blockdev"; path: string; major: number; minor: number; mode?: number };

export interface CpioOptions {
  /** Modification time stamped on every entry, in seconds since the epoch (default 0). */
  mtime?: number;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const utf8 = new TextEncoder();

function checkPath(path: string): void {
  const parts = path.split("/");
  if (path === "" || path.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new InvalidArgumentError(
      `cpio: bad entry path '${path}' (want a relative path without '.', '..' or '//')`,
    );
  }
}

function header(fields: number[]): string {
  return `070701${fields.map((f) => (f >>> 0).toString(16).padStart(8, "0")).join("")}`;
}

function modeOf(entry: CpioEntry): number {
  switch (entry.type) {
    case "directory":
      return S_IFDIR | (entry.mode ?? 0o755);
    case "file":
      return S_IFREG | (entry.mode ?? 0o644);
    case "symlink":
      return S_IFLNK | 0o777;
    case "chardev":
      return S_IFCHR | (entry.mode ?? 0o600);
    case "blockdev":
      return S_IFBLK | (entry.mode ?? 0o600);
  }
}

/** Writes `entries` as a newc cpio archive, ending with the trailer. */
export function writeCpio(entries: readonly CpioEntry[], options: CpioOptions = {}): Uint8Array {
  const mtime = options.mtime ?? 0;
  const byPath = new Map<string, CpioEntry>();
  for (const e of entries) {
    checkPath(e.path);
    if (byPath.has(e.path)) throw new InvalidArgumentError(`cpio: duplicate entry '${e.path}'`);
    byPath.set(e.path, e);
  }
  for (const path of [...byPath.keys()]) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { type: "directory", path: parent });
      else if (existing.type !== "directory") {
        throw new InvalidArgumentError(`cpio: '${parent}' is a ${existing.type} but '${path}' is inside it`);
      }
    }
  }
  const sorted = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const chunks: Uint8Array[] = [];
  let total = 0;
  const push = (bytes: Uint8Array) => {
    chunks.push(bytes);
    total += bytes.length;
    const pad = (4 - (total % 4)) % 4;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      total += pad;
    }
  };
  const emit = (
    ino: number,
    mode: number,
    nlink: number,
    name: string,
    data: Uint8Array,
    rdev: [number, number],
  ) => {
    const nameBytes = utf8.encode(`${name}\0`);
    const fields = [ino, mode, 0, 0, nlink, mtime, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
    const head = utf8.encode(header(fields));
    const headAndName = new Uint8Array(head.length + nameBytes.length);
    headAndName.set(head);
    headAndName.set(nameBytes, head.length);
    push(headAndName);
    if (data.length) push(data);
  };
  sorted.forEach((e, i) => {
    const data =
      e.type === "file" ? e.data : e.type === "symlink" ? utf8.encode(e.target) : new Uint8Array(0);
    const rdev: [number, number] =
      e.type === "chardev" || e.type === "blockdev" ? [e.major, e.minor] : [0, 0];
    emit(i + 1, modeOf(e), e.type === "directory" ? 2 : 1, e.path, data, rdev);
  });
  emit(0, 0, 1, "TRAILER!!!", new Uint8Array(0), [0, 0]);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
