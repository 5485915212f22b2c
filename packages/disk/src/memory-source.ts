/**
 * A `ByteSource` held in memory: for tests, for images built in a browser and
 * as the default store of copy-on-write overlays. Grows on demand (capacity
 * doubles) and zero-fills growth like a file.
 *
 * Deviation: limited to what one ArrayBuffer can hold (about 2 GiB on most
 * engines); large images belong in a host file source.
 */
import { InvalidArgumentError, ReadOnlyError } from "@backplane/core";
import type { ByteSource } from "./types.js";

/** Options for {@link MemoryByteSource}. */
export interface MemoryByteSourceOptions {
  /** Refuse writes, truncation and flush. */
  readOnly?: boolean;
}

/** A growable in-memory byte source. */
export class MemoryByteSource implements ByteSource {
  readonly name: string;
  readonly readOnly: boolean;
  #buf: Uint8Array;
  #size: number;

  /** Wraps `initial` (not copied) or starts empty. */
  constructor(name = "memory", initial?: Uint8Array, options: MemoryByteSourceOptions = {}) {
    this.name = name;
    this.readOnly = options.readOnly ?? false;
    this.#buf = initial ?? new Uint8Array(0);
    this.#size = this.#buf.length;
  }

  /** The current contents (a view, not a copy). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#size);
  }

  async size(): Promise<number> {
    return this.#size;
  }

  async read(offset: number, dest: Uint8Array): Promise<number> {
    checkOffset(offset);
    const n = Math.max(0, Math.min(dest.length, this.#size - offset));
    dest.set(this.#buf.subarray(offset, offset + n));
    return n;
  }

  async write(offset: number, src: Uint8Array): Promise<void> {
    this.#writable();
    checkOffset(offset);
    const end = offset + src.length;
    if (end > this.#size) this.#resize(end);
    this.#buf.set(src, offset);
  }

  async truncate(size: number): Promise<void> {
    this.#writable();
    checkOffset(size);
    this.#resize(size);
  }

  async flush(): Promise<void> {
    this.#writable();
  }

  async close(): Promise<void> {}

  async allocatedSize(): Promise<number> {
    return this.#size;
  }

  #writable(): void {
    if (this.readOnly) throw new ReadOnlyError(`${this.name}: opened read-only`);
  }

  #resize(size: number): void {
    if (size > this.#buf.length) {
      const grown = new Uint8Array(Math.max(size, Math.min(this.#buf.length * 2, size + (1 << 30))));
      grown.set(this.#buf.subarray(0, this.#size));
      this.#buf = grown;
    } else if (size < this.#size) {
      this.#buf.fill(0, size, this.#size);
    }
    this.#size = size;
  }
}

function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgumentError(`invalid byte offset ${offset}`);
  }
}
