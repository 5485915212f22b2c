/**
 * Memory-mapped I/O device contract.
 *
 * A device sees offsets inside its own window; the machine, not the device,
 * chooses the base address. A device declares the access widths it implements
 * natively and the address space adapts every other width (splitting wide
 * accesses, combining narrow ones), so devices stay small.
 */

/** Access width in bytes. */
export type AccessWidth = 1 | 2 | 4 | 8;

/** Widths whose value fits a JavaScript number exactly. */
export type NarrowWidth = 1 | 2 | 4;

/**
 * A device mapped into a guest address space.
 *
 * `read`/`write` carry values of 1, 2 or 4 bytes as unsigned numbers. A device
 * that implements 8-byte accesses natively (CLINT `mtime`, for example) adds
 * `read64`/`write64`; otherwise an 8-byte access becomes two 4-byte accesses,
 * low half first.
 *
 * Guest mistakes (a read of a write-only register, a bad value) must never
 * throw: ignore them or make them guest-visible.
 */
export interface MmioDevice {
  /** Size of the device's register window in bytes. */
  readonly size: number;
  /** Widths `read`/`write` implement; other widths are adapted by the caller. */
  readonly widths: readonly NarrowWidth[];
  /** Reads `width` bytes at `offset`; returns an unsigned value. */
  read(offset: number, width: NarrowWidth): number;
  /** Writes the low `width` bytes of `value` at `offset`. */
  write(offset: number, width: NarrowWidth, value: number): void;
  /** Optional native 8-byte read. */
  read64?(offset: number): bigint;
  /** Optional native 8-byte write. */
  write64?(offset: number, value: bigint): void;
}
