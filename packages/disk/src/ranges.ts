/**
 * Byte-range helpers shared by format drivers: bounds checks, splitting a byte
 * range into granules (sectors, clusters, blocks) and unaligned reads/writes
 * over storage that only moves whole granules (read-modify-write at the edges).
 * A driver implements the aligned case once and gets arbitrary byte ranges.
 */
import { InvalidArgumentError } from "@backplane/core";

/** Throws unless `[offset, offset + length)` lies inside a disk of `size` bytes. */
export function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new InvalidArgumentError(`invalid range: offset ${offset}, length ${length}`);
  }
  if (offset + length > size) {
    throw new InvalidArgumentError(`range ${offset}+${length} lies beyond the end of the ${size}-byte disk`);
  }
}

/** One piece of a byte range cut at granule boundaries. */
export interface GranulePiece {
  /** Granule number (`Math.floor(offset / granule)`). */
  index: number;
  /** Offset of the piece inside its granule. */
  start: number;
  /** Offset of the piece inside the caller's buffer (from the range start). */
  pos: number;
  /** Length of the piece in bytes. */
  length: number;
}

/** Cuts `[offset, offset + length)` at multiples of `granule`. */
export function* granules(offset: number, length: number, granule: number): Generator<GranulePiece> {
  let pos = 0;
  while (pos < length) {
    const abs = offset + pos;
    const index = Math.floor(abs / granule);
    const start = abs - index * granule;
    const n = Math.min(granule - start, length - pos);
    yield { index, start, pos, length: n };
    pos += n;
  }
}

/** Storage that reads and writes whole granules at granule-aligned offsets. */
export interface AlignedIo {
  /** Granule size in bytes (a power of two is not required). */
  readonly granule: number;
  /** Reads `dest.length` bytes (a multiple of `granule`) at an aligned `offset`. */
  readAligned(offset: number, dest: Uint8Array): Promise<void>;
  /** Writes `src.length` bytes (a multiple of `granule`) at an aligned `offset`. */
  writeAligned(offset: number, src: Uint8Array): Promise<void>;
}

/** Reads any byte range through aligned I/O: partial head and tail granules via a scratch buffer. */
export async function readUnaligned(io: AlignedIo, offset: number, dest: Uint8Array): Promise<void> {
  const g = io.granule;
  const end = offset + dest.length;
  const alignedStart = Math.ceil(offset / g) * g;
  const alignedEnd = Math.floor(end / g) * g;
  if (alignedStart >= alignedEnd) {
    const first = Math.floor(offset / g) * g;
    const span = new Uint8Array(Math.ceil(end / g) * g - first);
    await io.readAligned(first, span);
    dest.set(span.subarray(offset - first, end - first));
    return;
  }
  if (offset < alignedStart) {
    const head = new Uint8Array(g);
    await io.readAligned(alignedStart - g, head);
    dest.set(head.subarray(g - (alignedStart - offset)), 0);
  }
  await io.readAligned(alignedStart, dest.subarray(alignedStart - offset, alignedEnd - offset));
  if (end > alignedEnd) {
    const tail = new Uint8Array(g);
    await io.readAligned(alignedEnd, tail);
    dest.set(tail.subarray(0, end - alignedEnd), alignedEnd - offset);
  }
}

/** Writes any byte range through aligned I/O: partial granules are read, patched and written back. */
export async function writeUnaligned(io: AlignedIo, offset: number, src: Uint8Array): Promise<void> {
  const g = io.granule;
  const end = offset + src.length;
  for (const p of granules(offset, src.length, g)) {
    if (p.start !== 0 || p.length !== g) {
      const base = p.index * g;
      const buf = new Uint8Array(g);
      await io.readAligned(base, buf);
      buf.set(src.subarray(p.pos, p.pos + p.length), p.start);
      await io.writeAligned(base, buf);
    }
  }
  const alignedStart = Math.ceil(offset / g) * g;
  const alignedEnd = Math.floor(end / g) * g;
  if (alignedStart < alignedEnd) {
    await io.writeAligned(alignedStart, src.subarray(alignedStart - offset, alignedEnd - offset));
  }
}

/** True when every byte of `buf` is zero. */
export function isZero(buf: Uint8Array): boolean {
  const lead = Math.min((4 - (buf.byteOffset % 4)) % 4, buf.length);
  for (let i = 0; i < lead; i++) if (buf[i] !== 0) return false;
  const words = (buf.length - lead) >>> 2;
  if (words > 0 && !wordsZero(new Int32Array(buf.buffer, buf.byteOffset + lead, words), 0, words))
    return false;
  for (let i = lead + words * 4; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** True when words `[from, to)` of `w` are all zero; four words per step (the data-dependent exit is rare). */
function wordsZero(w: Int32Array, from: number, to: number): boolean {
  let i = from;
  for (; i + 4 <= to; i += 4) if ((w[i] | w[i + 1] | w[i + 2] | w[i + 3]) !== 0) return false;
  for (; i < to; i++) if (w[i] !== 0) return false;
  return true;
}

/** A run of whole blocks of a buffer that are all zero, or all hold data. */
export interface ZeroRun {
  start: number;
  end: number;
  zero: boolean;
}

/**
 * Splits `buf` into runs of `block`-byte blocks (the last may be shorter),
 * each run either all-zero blocks or all blocks holding some non-zero byte:
 * the sparse detection of `convert -S`. One word view serves the whole
 * buffer when it is 4-byte aligned.
 */
export function zeroRuns(buf: Uint8Array, block: number): ZeroRun[] {
  if (!(block > 0)) throw new RangeError(`zeroRuns: block size ${block} must be positive`);
  const aligned = buf.byteOffset % 4 === 0 && block % 4 === 0;
  const w = aligned ? new Int32Array(buf.buffer, buf.byteOffset, buf.length >>> 2) : undefined;
  const blockZero = (p: number, end: number) =>
    w && end % 4 === 0 ? wordsZero(w, p >>> 2, end >>> 2) : isZero(buf.subarray(p, end));
  const runs: ZeroRun[] = [];
  for (let p = 0; p < buf.length; p += block) {
    const end = Math.min(buf.length, p + block);
    const zero = blockZero(p, end);
    const last = runs[runs.length - 1];
    if (last && last.zero === zero) last.end = end;
    else runs.push({ start: p, end, zero });
  }
  return runs;
}
