/**
 * Streaming reader for tar archives (the data.tar and control.tar of a .deb).
 *
 * Spec: POSIX.1-2017 pax(1), "ustar Interchange Format" and "pax Interchange
 * Format" (extended headers `x` and global headers `g` with the path,
 * linkpath, size, mtime, uid and gid keywords), plus the GNU tar extensions
 * that Debian's tools emit: `L`/`K` long names and base-256 numbers.
 * Entries: regular files, hard links, symlinks, character and block devices,
 * directories and FIFOs. Header checksums are verified.
 * Left out: sparse files (GNU `S`, pax GNU.sparse.*), multi-volume archives,
 * extended attributes, writing.
 */
import { CorruptDataError, UnsupportedError } from "@backplane/core";

export type TarEntryType = "file" | "hardlink" | "symlink" | "chardev" | "blockdev" | "directory" | "fifo";

/** One archive member. Paths are normalised: no leading "./" or "/", no trailing "/". */
export interface TarEntry {
  path: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  /** Target of a symlink or hard link (hard links name another archive path). */
  linkPath: string;
  devMajor: number;
  devMinor: number;
  /** File contents, present for regular files that `wantData` selected. */
  data?: Uint8Array;
}

export interface ReadTarOptions {
  /** Decides whether a regular file's contents are kept (default: all are kept). */
  wantData?: (entry: TarEntry) => boolean;
}

const BLOCK = 512;
const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "chardev",
  "4": "blockdev",
  "5": "directory",
  "6": "fifo",
};
const utf8 = new TextDecoder();

/** Pulls exact byte counts out of a chunked stream. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.ended) {
      const { done, value } = await this.reader.read();
      if (done) this.ended = true;
      else if (value.length > 0) {
        this.chunks.push(value);
        this.buffered += value.length;
      }
    }
    return this.buffered >= n;
  }

  /** The next `n` bytes, or null at a clean end of stream (`endOk`); throws when cut short. */
  async read(n: number, endOk = false): Promise<Uint8Array | null> {
    if (n === 0) return new Uint8Array(0);
    if (!(await this.fill(n))) {
      if (endOk && this.buffered === 0) return null;
      throw new CorruptDataError(`tar: archive is truncated (wanted ${n} bytes, ${this.buffered} left)`);
    }
    const first = this.chunks[0];
    if (first.length >= n) {
      this.consume(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const take = Math.min(c.length, n - at);
      out.set(c.subarray(0, take), at);
      at += take;
      this.consume(take);
    }
    return out;
  }

  /** Discards `n` bytes without copying them. */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill(1)))
        throw new CorruptDataError(`tar: archive is truncated (${left} bytes missing)`);
      const take = Math.min(this.chunks[0].length, left);
      this.consume(take);
      left -= take;
    }
  }

  private consume(n: number): void {
    const c = this.chunks[0];
    if (n === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(n);
    this.buffered -= n;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return utf8.decode(nul < 0 ? field : field.subarray(0, nul));
}

function number(block: Uint8Array, start: number, length: number, what: string): number {
  if (block[start] & 0x80) {
    // GNU base-256: big-endian two's complement, first byte's top bit is the marker.
    let value = block[start] & 0x3f;
    if (block[start] & 0x40) throw new UnsupportedError(`tar: negative base-256 ${what}`);
    for (let i = 1; i < length; i++) value = value * 256 + block[start + i];
    return value;
  }
  const raw = text(block, start, length).trim();
  if (raw === "") return 0;
  if (!/^[0-7]+$/.test(raw)) throw new CorruptDataError(`tar: bad octal ${what} field '${raw}'`);
  return Number.parseInt(raw, 8);
}

function checksumOk(block: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum === number(block, 148, 8, "checksum");
}

function normalise(path: string): string {
  let p = path.replace(/\/+$/, "");
  while (p.startsWith("./") || p.startsWith("/")) p = p.startsWith("/") ? p.slice(1) : p.slice(2);
  return p === "" ? "." : p;
}

/** Parses pax extended header records ("<len> <key>=<value>\n"). */
function parsePax(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = space < 0 ? Number.NaN : Number(utf8.decode(data.subarray(at, space)));
    if (
      !Number.isInteger(length) ||
      length <= 0 ||
      at + length > data.length ||
      data[at + length - 1] !== 0x0a
    ) {
      throw new CorruptDataError(`tar: malformed pax extended header record at byte ${at}`);
    }
    const record = utf8.decode(data.subarray(space + 1, at + length - 1));
    const eq = record.indexOf("=");
    if (eq < 0) throw new CorruptDataError(`tar: pax record without '=' at byte ${at}`);
    records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

function paxNumber(records: Map<string, string>, key: string): number | undefined {
  const v = records.get(key);
  if (v === undefined) return undefined;
  const n = Math.floor(Number(v));
  if (!Number.isFinite(n) || n < 0) throw new CorruptDataError(`tar: bad pax ${key} value '${v}'`);
  return n;
}

/**
 * Reads a tar archive entry by entry. Contents of unselected files are
 * skipped without being buffered, so large archives stream in bounded memory.
 */
export async function* readTar(
  source: ReadableStream<Uint8Array>,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry> {
  const queue = new ByteQueue(source);
  const global = new Map<string, string>();
  let local = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const block = await queue.read(BLOCK, true);
      if (block === null || block.every((b) => b === 0)) return;
      if (!checksumOk(block)) throw new CorruptDataError("tar: header checksum mismatch");
      const flag = String.fromCharCode(block[156]);
      const headerSize = number(block, 124, 12, "size");
      const padded = Math.ceil(headerSize / BLOCK) * BLOCK;
      if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
        const data = ((await queue.read(padded)) ?? new Uint8Array(0)).subarray(0, headerSize);
        if (flag === "x") local = parsePax(data);
        else if (flag === "g") for (const [k, v] of parsePax(data)) global.set(k, v);
        else if (flag === "L") longName = text(data, 0, data.length);
        else longLink = text(data, 0, data.length);
        continue;
      }
      const type = TYPES[flag];
      if (!type) throw new UnsupportedError(`tar: entry type '${flag}' is not supported`);
      const pax = new Map([...global, ...local]);
      const posix = text(block, 257, 6) === "ustar";
      const prefix = posix ? text(block, 345, 155) : "";
      const headerName = text(block, 0, 100);
      const size = paxNumber(pax, "size") ?? headerSize;
      const entry: TarEntry = {
        path: normalise(pax.get("path") ?? longName ?? (prefix ? `${prefix}/${headerName}` : headerName)),
        type,
        mode: number(block, 100, 8, "mode"),
        uid: paxNumber(pax, "uid") ?? number(block, 108, 8, "uid"),
        gid: paxNumber(pax, "gid") ?? number(block, 116, 8, "gid"),
        mtime: paxNumber(pax, "mtime") ?? number(block, 136, 12, "mtime"),
        size: type === "file" ? size : 0,
        linkPath: pax.get("linkpath") ?? longLink ?? text(block, 157, 100),
        devMajor: number(block, 329, 8, "devmajor"),
        devMinor: number(block, 337, 8, "devminor"),
      };
      if (type === "hardlink") entry.linkPath = normalise(entry.linkPath);
      local = new Map();
      longName = undefined;
      longLink = undefined;
      const stored = type === "file" ? size : 0;
      const storedPadded = Math.ceil(stored / BLOCK) * BLOCK;
      if (type === "file" && (options.wantData?.(entry) ?? true)) {
        const body = (await queue.read(storedPadded)) ?? new Uint8Array(0);
        entry.data = body.subarray(0, stored);
      } else {
        await queue.skip(storedPadded);
      }
      yield entry;
    }
  } finally {
    await queue.cancel();
  }
}
