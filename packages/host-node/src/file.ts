/**
 * Host files as `ByteSource`s, on node:fs/promises `FileHandle`. Offsets are
 * plain numbers, exact up to 2^53 bytes, so images beyond 4 GiB work; reads
 * and writes loop until the whole buffer moved (the OS may move less).
 * `allocatedSize` is the file's allocated blocks (st_blocks * 512), what
 * qemu-img reports as `actual-size`.
 *
 * `allocationMap` finds the holes of a sparse file with lseek(2) SEEK_DATA /
 * SEEK_HOLE (Linux 3.1+; whence 3 and 4 from <unistd.h>), which Node's fs
 * lacks: the optional dependency `fs-ext` passes `whence` through to lseek.
 * lseek is a quick metadata call, so it is made synchronously (fs-ext's
 * asynchronous form queues work on the main thread's loop, wrong in a worker).
 * Deviation: where `fs-ext` is not installed or fails to load (no compiler at
 * install time), on hosts other than Linux, and on file systems without
 * SEEK_DATA (EINVAL), the whole file counts as data, as qemu's file driver
 * does when lseek cannot tell.
 */

import { readSync, writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { mkdtemp, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackplaneError, InvalidArgumentError, NotFoundError, ReadOnlyError } from "@backplane/core";
import type { ByteSource } from "@backplane/disk";

/** A host I/O failure other than a missing file (permissions, full disk, ...). */
export class HostIoError extends BackplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_HOST_IO", message, options);
  }
}

/** Turns a Node fs error into the matching typed error, naming the file. */
export function fileError(path: string, err: unknown): BackplaneError {
  if (err instanceof BackplaneError) return err;
  const e = err as NodeJS.ErrnoException;
  const reason: Record<string, string> = {
    ENOENT: "No such file or directory",
    EACCES: "Permission denied",
    EISDIR: "Is a directory",
    EROFS: "Read-only file system",
    ENOSPC: "No space left on device",
  };
  const text = (e.code && reason[e.code]) ?? e.message;
  const message = `Could not open '${path}': ${text}`;
  return e.code === "ENOENT"
    ? new NotFoundError(message, { cause: err })
    : new HostIoError(message, { cause: err });
}

/** How a {@link FileByteSource} moves bytes. */
export interface FileIoOptions {
  /**
   * qemu's `cache=` modes as far as flushing goes: `writeback` (default)
   * makes `flush` fdatasync(2) the file; `unsafe` makes it return at once,
   * for output that need not survive a host crash (qemu-img convert's
   * default for its target).
   */
  cache?: "writeback" | "unsafe";
  /**
   * Requests of at most this many bytes use synchronous pread/pwrite on the
   * calling thread: a page-cache hit then costs about a microsecond instead
   * of a round trip through libuv's thread pool (~20 µs), but a request that
   * waits for a slow device blocks the event loop meanwhile. Default 0: every
   * request goes through the thread pool.
   */
  syncMax?: number;
}

/** Options for {@link FileByteSource.open}. */
export interface FileOpenOptions extends FileIoOptions {
  /** Open without write access. */
  readOnly?: boolean;
}

/** A host file as random-access bytes. */
export class FileByteSource implements ByteSource {
  readonly readOnly: boolean;
  #name: string;
  readonly #fh: FileHandle;
  #size: number;
  #onClose: (() => Promise<void>) | undefined;
  readonly #unsafe: boolean;
  readonly #syncMax: number;

  private constructor(
    name: string,
    fh: FileHandle,
    size: number,
    readOnly: boolean,
    io: FileIoOptions,
    onClose?: () => Promise<void>,
  ) {
    this.#name = name;
    this.#fh = fh;
    this.#size = size;
    this.readOnly = readOnly;
    this.#unsafe = io.cache === "unsafe";
    this.#syncMax = io.syncMax ?? 0;
    this.#onClose = onClose;
  }

  /** Opens an existing file. */
  static async open(path: string, options: FileOpenOptions = {}): Promise<FileByteSource> {
    const readOnly = options.readOnly ?? false;
    try {
      const fh = await open(path, readOnly ? "r" : "r+");
      const st = await fh.stat();
      if (st.isDirectory()) {
        await fh.close();
        throw new HostIoError(`Could not open '${path}': Is a directory`);
      }
      return new FileByteSource(path, fh, st.size, readOnly, options);
    } catch (err) {
      throw fileError(path, err);
    }
  }

  /** Creates `path` (or truncates it to zero bytes) and opens it for writing. */
  static async create(path: string, options: FileIoOptions = {}): Promise<FileByteSource> {
    try {
      return new FileByteSource(path, await open(path, "w+"), 0, false, options);
    } catch (err) {
      throw fileError(path, err);
    }
  }

  /** Creates an empty file in a fresh temporary directory, removed again on close. */
  static async temporary(prefix = "backplane-"): Promise<FileByteSource> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    const path = join(dir, "overlay");
    const fh = await open(path, "w+");
    return new FileByteSource(path, fh, 0, false, {}, () => rm(dir, { recursive: true, force: true }));
  }

  get name(): string {
    return this.#name;
  }

  async size(): Promise<number> {
    return this.#size;
  }

  /** Renames the file (replacing any file at `path`); the source stays open. */
  async rename(path: string): Promise<void> {
    try {
      await rename(this.#name, path);
    } catch (err) {
      throw fileError(path, err);
    }
    this.#name = path;
  }

  async read(offset: number, dest: Uint8Array): Promise<number> {
    checkOffset(offset);
    const sync = dest.length <= this.#syncMax;
    let done = 0;
    while (done < dest.length) {
      const n = dest.length - done;
      const bytesRead = sync
        ? readSync(this.#fh.fd, dest, done, n, offset + done)
        : (await this.#fh.read(dest, done, n, offset + done)).bytesRead;
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  async write(offset: number, src: Uint8Array): Promise<void> {
    this.#writable();
    checkOffset(offset);
    const sync = src.length <= this.#syncMax;
    let done = 0;
    while (done < src.length) {
      const n = src.length - done;
      done += sync
        ? writeSync(this.#fh.fd, src, done, n, offset + done)
        : (await this.#fh.write(src, done, n, offset + done)).bytesWritten;
    }
    this.#size = Math.max(this.#size, offset + src.length);
  }

  async truncate(size: number): Promise<void> {
    this.#writable();
    checkOffset(size);
    // Not even a no-op ftruncate: on ext4 (auto_da_alloc) a file truncated to
    // zero is written back when it is closed, ~100 ms for a fresh 256 MiB image.
    if (size === this.#size) return;
    await this.#fh.truncate(size);
    this.#size = size;
  }

  async flush(): Promise<void> {
    this.#writable();
    if (!this.#unsafe) await this.#fh.datasync();
  }

  async close(): Promise<void> {
    await this.#fh.close();
    await this.#onClose?.();
    this.#onClose = undefined;
  }

  async allocatedSize(): Promise<number> {
    return (await this.#fh.stat()).blocks * 512;
  }

  async allocationMap(
    offset: number,
    length: number,
  ): Promise<{ start: number; length: number; data: boolean }[]> {
    checkOffset(offset);
    checkOffset(length);
    const lseek = await loadSeek();
    const end = offset + length;
    const extents: { start: number; length: number; data: boolean }[] = [];
    let pos = offset;
    const add = (to: number, data: boolean) => {
      const last = extents.at(-1);
      if (last?.data === data) last.length += to - pos;
      else extents.push({ start: pos, length: to - pos, data });
      pos = to;
    };
    // The file may grow or shrink meanwhile: each answer is taken as it comes
    // and clipped to the range; a hole found where data was just seen asks again.
    while (pos < end) {
      const data = this.#seek(lseek, pos, SEEK_DATA, Number.POSITIVE_INFINITY);
      if (data === undefined) add(end, true);
      else if (data > pos) add(Math.min(data, end), false);
      else {
        const hole = this.#seek(lseek, pos, SEEK_HOLE, pos);
        if (hole === undefined) add(end, true);
        else if (hole > pos) add(Math.min(hole, end), true);
      }
    }
    return extents;
  }

  /**
   * lseek(2) on the file: the offset found, `pastEnd` on ENXIO (`offset` is at
   * or past the end of the file, or no data follows it), undefined when holes
   * cannot be found (no `fs-ext`, EINVAL: the file system has no SEEK_DATA).
   */
  #seek(lseek: Lseek | undefined, offset: number, whence: number, pastEnd: number): number | undefined {
    if (!lseek) return undefined;
    try {
      return lseek.seekSync(this.#fh.fd, offset, whence);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENXIO") return pastEnd;
      if (code === "EINVAL") return undefined;
      throw new HostIoError(`${this.#name}: lseek: ${(err as Error).message}`, { cause: err });
    }
  }

  #writable(): void {
    if (this.readOnly) throw new ReadOnlyError(`${this.name}: opened read-only`);
  }
}

/** lseek(2) whence values of Linux <unistd.h>. */
const SEEK_DATA = 3;
const SEEK_HOLE = 4;

/** What this module uses of `fs-ext`. */
interface Lseek {
  /** lseek(2): the new file offset; throws an errno error (`code`: "ENXIO", ...). */
  seekSync(fd: number, offset: number, whence: number): number;
}

/**
 * The package name is a variable so that bundlers leave the import alone: a
 * native addon cannot be bundled, it is found in node_modules at run time.
 */
const FS_EXT = "fs-ext";
let seekLoad: Promise<Lseek | undefined> | undefined;

/** Loads `fs-ext` once, on first use; undefined where it cannot serve SEEK_DATA. */
function loadSeek(): Promise<Lseek | undefined> {
  seekLoad ??=
    process.platform === "linux"
      ? import(FS_EXT).then(
          (m: { default: Lseek }) => m.default,
          () => undefined,
        )
      : Promise.resolve(undefined);
  return seekLoad;
}

function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new InvalidArgumentError(`invalid byte offset ${offset}`);
}
