/**
 * Copy-on-write overlay: a `BlockBackend` over another that never writes to
 * it. Writes land in a store (memory by default, or any `ByteSource` such as
 * a temporary host file) at the same offsets, tracked per granule; reads take
 * written granules from the store and the rest from the base. This is what
 * `snapshot=on` and read-only remote disks (HTTP ranges) need.
 *
 * Deviation: the overlay is temporary; nothing of it survives `close()`, and
 * `flush()` only flushes the store.
 */
import type { BlockBackend, WriteZeroesOptions } from "@backplane/core";
import { MemoryByteSource } from "./memory-source.js";
import { checkRange, granules } from "./ranges.js";
import type { ByteSource } from "./types.js";

/** Options for {@link CowOverlay}. */
export interface CowOverlayOptions {
  /** Where written data goes; default: a `MemoryByteSource`. */
  store?: ByteSource;
  /** Tracking granule in bytes; default 64 KiB (at least the base's blockSize). */
  granule?: number;
  /** Close the base backend when the overlay closes; default true. */
  closeBase?: boolean;
}

const CLEAN = 0;
const STORED = 1;
const ZERO = 2;

/** A writable view of a backend whose writes are kept aside. */
export class CowOverlay implements BlockBackend {
  readonly size: number;
  readonly readOnly = false;
  readonly blockSize: number;
  readonly base: BlockBackend;
  readonly #store: ByteSource;
  readonly #granule: number;
  readonly #state: Uint8Array;
  readonly #closeBase: boolean;

  constructor(base: BlockBackend, options: CowOverlayOptions = {}) {
    this.base = base;
    this.size = base.size;
    this.blockSize = base.blockSize;
    this.#granule = Math.max(options.granule ?? 65536, base.blockSize);
    this.#store = options.store ?? new MemoryByteSource("overlay");
    this.#state = new Uint8Array(Math.ceil(base.size / this.#granule));
    this.#closeBase = options.closeBase ?? true;
  }

  /** Bytes of the disk that differ from the base (whole granules). */
  get dirtyBytes(): number {
    let n = 0;
    for (const s of this.#state) if (s !== CLEAN) n++;
    return Math.min(n * this.#granule, this.size);
  }

  async read(offset: number, dest: Uint8Array): Promise<void> {
    checkRange(this.size, offset, dest.length);
    let runState = -1;
    let runPos = 0;
    const flushRun = async (end: number) => {
      if (runPos === end) return;
      const part = dest.subarray(runPos, end);
      if (runState === CLEAN) await this.base.read(offset + runPos, part);
      else if (runState === ZERO) part.fill(0);
      else {
        const n = await this.#store.read(offset + runPos, part);
        part.fill(0, n);
      }
    };
    for (const p of granules(offset, dest.length, this.#granule)) {
      const s = this.#state[p.index];
      if (s !== runState) {
        await flushRun(p.pos);
        runState = s;
        runPos = p.pos;
      }
    }
    await flushRun(dest.length);
  }

  async write(offset: number, src: Uint8Array): Promise<void> {
    checkRange(this.size, offset, src.length);
    for (const p of granules(offset, src.length, this.#granule)) {
      const base = p.index * this.#granule;
      const glen = Math.min(this.#granule, this.size - base);
      const piece = src.subarray(p.pos, p.pos + p.length);
      if (this.#state[p.index] === STORED || (p.start === 0 && p.length === glen)) {
        await this.#store.write(base + p.start, piece);
      } else {
        const whole = new Uint8Array(glen);
        if (this.#state[p.index] === CLEAN) await this.base.read(base, whole);
        whole.set(piece, p.start);
        await this.#store.write(base, whole);
      }
      this.#state[p.index] = STORED;
    }
  }

  async writeZeroes(offset: number, length: number, _options?: WriteZeroesOptions): Promise<void> {
    checkRange(this.size, offset, length);
    for (const p of granules(offset, length, this.#granule)) {
      const glen = Math.min(this.#granule, this.size - p.index * this.#granule);
      if (p.start === 0 && p.length === glen) this.#state[p.index] = ZERO;
      else if (this.#state[p.index] !== ZERO) {
        await this.write(offset + p.pos, new Uint8Array(p.length));
      }
    }
  }

  discard(offset: number, length: number): Promise<void> {
    return this.writeZeroes(offset, length);
  }

  async flush(): Promise<void> {
    if (!this.#store.readOnly) await this.#store.flush();
  }

  async close(): Promise<void> {
    await this.#store.close();
    if (this.#closeBase) await this.base.close();
  }
}
