/**
 * MemoryBlockBackend: a {@link BlockBackend} over a Uint8Array.
 *
 * Every operation completes asynchronously (the promise settles on a later
 * microtask), like a real host backend, so device code cannot accidentally
 * rely on synchronous completion. Out-of-range requests reject with
 * `InvalidArgumentError`; writes to a read-only backend and after `close`
 * reject with `ReadOnlyError`. `discard` and `writeZeroes` both leave zeroes.
 */
import {
  type BlockBackend,
  InvalidArgumentError,
  ReadOnlyError,
  type WriteZeroesOptions,
} from "@backplane/core";

/** Options for {@link MemoryBlockBackend}. */
export interface MemoryBlockBackendOptions {
  /** Refuse writes (default false). */
  readOnly?: boolean;
  /** Reported I/O granularity in bytes (default 512). */
  blockSize?: number;
}

export class MemoryBlockBackend implements BlockBackend {
  /** The disk contents; tests may inspect or prepare it directly. */
  readonly data: Uint8Array;
  readonly readOnly: boolean;
  readonly blockSize: number;
  /** Number of completed `flush` calls. */
  flushCount = 0;
  /** True once `close` has been called. */
  closed = false;

  /** Wraps `data` (not copied), or allocates `data` zeroed bytes when given a size. */
  constructor(data: Uint8Array | number, options: MemoryBlockBackendOptions = {}) {
    if (typeof data === "number") {
      if (!Number.isSafeInteger(data) || data < 0) throw new InvalidArgumentError(`bad disk size ${data}`);
      this.data = new Uint8Array(data);
    } else {
      this.data = data;
    }
    this.readOnly = options.readOnly ?? false;
    this.blockSize = options.blockSize ?? 512;
  }

  get size(): number {
    return this.data.length;
  }

  async read(offset: number, dest: Uint8Array): Promise<void> {
    this.check(offset, dest.length);
    dest.set(this.data.subarray(offset, offset + dest.length));
  }

  async write(offset: number, src: Uint8Array): Promise<void> {
    this.checkWritable(offset, src.length);
    this.data.set(src, offset);
  }

  async flush(): Promise<void> {
    this.flushCount++;
  }

  async discard(offset: number, length: number): Promise<void> {
    this.checkWritable(offset, length);
    this.data.fill(0, offset, offset + length);
  }

  async writeZeroes(offset: number, length: number, _options?: WriteZeroesOptions): Promise<void> {
    this.checkWritable(offset, length);
    this.data.fill(0, offset, offset + length);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new InvalidArgumentError(`bad block request at ${offset} (+${length})`);
    }
    if (offset + length > this.data.length) {
      throw new InvalidArgumentError(
        `block request at ${offset} (+${length}) ends past the ${this.size}-byte disk`,
      );
    }
  }

  private checkWritable(offset: number, length: number): void {
    if (this.readOnly) throw new ReadOnlyError("the disk is read-only");
    if (this.closed) throw new ReadOnlyError("the disk is closed");
    this.check(offset, length);
  }
}
