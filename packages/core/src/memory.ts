/**
 * Guest memory as a DMA-capable device sees it.
 *
 * Devices may read and write guest-physical ranges but never map or manage
 * memory. Every access is bounds-checked: an access outside RAM throws
 * {@link GuestMemoryFault}, which a device catches and turns into a
 * guest-visible error (a virtio device, for example, sets NEEDS_RESET).
 */

/** A bounds-checked view of guest RAM for device DMA. */
export interface GuestMemory {
  /** True when `[address, address + length)` lies wholly inside RAM. */
  isValid(address: number, length: number): boolean;
  /** Copies guest bytes at `address` into `dest`. */
  read(address: number, dest: Uint8Array): void;
  /** Copies `src` into guest memory at `address`. */
  write(address: number, src: Uint8Array): void;
  /**
   * Returns a live view of `[address, address + length)` without copying,
   * when the range is contiguous host memory; otherwise `undefined`.
   */
  view?(address: number, length: number): Uint8Array | undefined;
  readU8(address: number): number;
  readU16(address: number): number;
  readU32(address: number): number;
  readU64(address: number): bigint;
  writeU8(address: number, value: number): void;
  writeU16(address: number, value: number): void;
  writeU32(address: number, value: number): void;
  writeU64(address: number, value: bigint): void;
}
