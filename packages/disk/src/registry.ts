/**
 * Format registry: drivers register a `DiskFormat`; `openDisk` opens a byte
 * source by explicit format name (or alias) or by probing its first bytes.
 * Probing follows qemu's block/block-backend probe: every driver scores the
 * first 2048 bytes, the highest score wins, and raw (score 1) only when no
 * other format claims the file.
 */
import { InvalidArgumentError, UnsupportedError } from "@backplane/core";
import type { ByteSource, DiskFormat, DiskImage, OpenOptions } from "./types.js";

/** Bytes read from the start of a source for probing (qemu's BLOCK_PROBE_BUF_SIZE). */
export const PROBE_BYTES = 2048;

/** Options for {@link FormatRegistry.open} and {@link openDisk}. */
export interface OpenDiskOptions extends OpenOptions {
  /** Format name or alias; probed when omitted. */
  format?: string;
}

/** A set of format drivers, looked up by name or alias. */
export class FormatRegistry {
  readonly #formats = new Map<string, DiskFormat>();
  readonly #byName = new Map<string, DiskFormat>();

  /** Adds a driver; registering the same driver again is harmless, a different one under a taken name throws. */
  register(format: DiskFormat): void {
    for (const name of [format.name, ...(format.aliases ?? [])]) {
      const taken = this.#byName.get(name);
      if (taken && taken !== format) {
        throw new InvalidArgumentError(`disk format name '${name}' is already registered`);
      }
    }
    this.#formats.set(format.name, format);
    for (const name of [format.name, ...(format.aliases ?? [])]) this.#byName.set(name, format);
  }

  /** The driver for a name or alias, if registered. */
  find(name: string): DiskFormat | undefined {
    return this.#byName.get(name);
  }

  /** The driver for a name or alias; throws `InvalidArgumentError` when unknown. */
  get(name: string): DiskFormat {
    const format = this.#byName.get(name);
    if (!format) throw new InvalidArgumentError(`Unknown file format '${name}'`);
    return format;
  }

  /** Registered drivers, in registration order. */
  list(): DiskFormat[] {
    return [...this.#formats.values()];
  }

  /** Picks the driver that scores the source's first bytes highest; throws `UnsupportedError` when none does. */
  async probe(source: ByteSource): Promise<DiskFormat> {
    const size = await source.size();
    const header = new Uint8Array(Math.min(PROBE_BYTES, size));
    const n = await source.read(0, header);
    let best: DiskFormat | undefined;
    let bestScore = 0;
    for (const format of this.#formats.values()) {
      const score = format.probe(header.subarray(0, n), size);
      if (score > bestScore) {
        best = format;
        bestScore = score;
      }
    }
    if (!best) throw new UnsupportedError(`${source.name}: could not determine the image format`);
    return best;
  }

  /** Opens `source` with the named driver, or the probed one. */
  async open(source: ByteSource, options: OpenDiskOptions = {}): Promise<DiskImage> {
    const { format: name, ...open } = options;
    const format = name !== undefined ? this.get(name) : await this.probe(source);
    return format.open(source, { ...open, readOnly: options.readOnly ?? source.readOnly });
  }
}

/** The registry used by the free functions below (and by `backplane img`). */
export const defaultRegistry: FormatRegistry = new FormatRegistry();

/** Registers a driver in the default registry. */
export function registerFormat(format: DiskFormat): void {
  defaultRegistry.register(format);
}

/** Looks a driver up by name or alias in the default registry. */
export function findFormat(name: string): DiskFormat | undefined {
  return defaultRegistry.find(name);
}

/** Opens a source with the default registry. */
export function openDisk(source: ByteSource, options?: OpenDiskOptions): Promise<DiskImage> {
  return defaultRegistry.open(source, options);
}
