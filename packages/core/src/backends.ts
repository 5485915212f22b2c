/**
 * Host-side backends that devices talk to: character streams, block storage
 * and network frames. Host packages (`host-node`, `host-web`) and the fakes in
 * `@backplane/testing` implement them.
 */

/**
 * A byte stream between a device and the host (a terminal, a socket, a file).
 *
 * Output is pushed with `write`. Input is pulled: the backend holds bytes until
 * the device has room and calls `read`, which is how back-pressure reaches the
 * host. The backend calls the `onReadable` listeners when input arrives.
 */
export interface CharBackend {
  /** Sends guest output to the host. */
  write(data: Uint8Array): void;
  /** Moves up to `into.length` pending input bytes into `into`; returns the count. */
  read(into: Uint8Array): number;
  /** Registers a listener called when input becomes available; returns an unsubscribe function. */
  onReadable(listener: () => void): () => void;
}

/** Options for {@link BlockBackend.writeZeroes}. */
export interface WriteZeroesOptions {
  /** The backend may deallocate the range instead of writing zeroes. */
  mayUnmap?: boolean;
}

/**
 * Random-access block storage (an image file, a memory buffer, a URL).
 *
 * Offsets and lengths are in bytes and need not be sector aligned unless
 * `blockSize` says otherwise. Every operation may complete asynchronously;
 * devices never block the CPU loop on one.
 */
export interface BlockBackend {
  /** Virtual disk size in bytes. */
  readonly size: number;
  /** True when writes are refused. */
  readonly readOnly: boolean;
  /** Preferred I/O granularity in bytes (512 unless the format says otherwise). */
  readonly blockSize: number;
  /** Fills `dest` from the disk at `offset`. */
  read(offset: number, dest: Uint8Array): Promise<void>;
  /** Writes `src` to the disk at `offset`. */
  write(offset: number, src: Uint8Array): Promise<void>;
  /** Makes every completed write durable on the host. */
  flush(): Promise<void>;
  /** Hints that a range is unused; reads of it may then return anything the format allows (zeroes for all ours). */
  discard?(offset: number, length: number): Promise<void>;
  /** Makes a range read as zeroes. */
  writeZeroes?(offset: number, length: number, options?: WriteZeroesOptions): Promise<void>;
  /** Flushes and releases host resources. */
  close(): Promise<void>;
}

/** A network link carrying whole Ethernet frames. */
export interface NetBackend {
  /** Sends one frame from the guest. */
  send(frame: Uint8Array): void;
  /** Registers a receiver for frames to the guest; returns an unsubscribe function. */
  onReceive(listener: (frame: Uint8Array) => void): () => void;
}
