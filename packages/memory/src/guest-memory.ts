/**
 * The core `GuestMemory` contract over an {@link AddressSpace}'s RAM, for
 * device DMA. Every access must lie wholly inside one RAM region; anything
 * else (MMIO, ROM, holes, a range straddling two regions) throws
 * `GuestMemoryFault`, which the device turns into a guest-visible error.
 * Writes mark the touched pages dirty.
 */
import { type GuestMemory, GuestMemoryFault } from "@backplane/core";
import type { AddressSpace } from "./address-space.js";
import type { Ram } from "./block.js";

/** DMA view of the RAM mapped in an address space. */
export class AddressSpaceGuestMemory implements GuestMemory {
  constructor(private readonly space: AddressSpace) {}

  /** Returns the RAM and the offset of `address` inside it, or throws. */
  private locate(address: number, length: number): { ram: Ram; offset: number } {
    const region = Number.isSafeInteger(address) && length >= 0 ? this.space.lookup(address) : undefined;
    if (region === undefined || region.ram === null || address + length > region.end) {
      throw new GuestMemoryFault(address, length);
    }
    return { ram: region.ram, offset: address - region.base };
  }

  isValid(address: number, length: number): boolean {
    if (!Number.isSafeInteger(address) || !(length >= 0)) return false;
    const region = this.space.lookup(address);
    return region !== undefined && region.ram !== null && address + length <= region.end;
  }

  read(address: number, dest: Uint8Array): void {
    const { ram, offset } = this.locate(address, dest.length);
    dest.set(ram.bytes.subarray(offset, offset + dest.length));
  }

  write(address: number, src: Uint8Array): void {
    const { ram, offset } = this.locate(address, src.length);
    ram.bytes.set(src, offset);
    ram.markDirty(offset, src.length);
  }

  view(address: number, length: number): Uint8Array | undefined {
    if (!this.isValid(address, length)) return undefined;
    const { ram, offset } = this.locate(address, length);
    return ram.bytes.subarray(offset, offset + length);
  }

  readU8(address: number): number {
    const { ram, offset } = this.locate(address, 1);
    return ram.view.getUint8(offset);
  }
  readU16(address: number): number {
    const { ram, offset } = this.locate(address, 2);
    return ram.view.getUint16(offset, true);
  }
  readU32(address: number): number {
    const { ram, offset } = this.locate(address, 4);
    return ram.view.getUint32(offset, true);
  }
  readU64(address: number): bigint {
    const { ram, offset } = this.locate(address, 8);
    return ram.view.getBigUint64(offset, true);
  }
  writeU8(address: number, value: number): void {
    const { ram, offset } = this.locate(address, 1);
    ram.view.setUint8(offset, value & 0xff);
    ram.markDirty(offset, 1);
  }
  writeU16(address: number, value: number): void {
    const { ram, offset } = this.locate(address, 2);
    ram.view.setUint16(offset, value & 0xffff, true);
    ram.markDirty(offset, 2);
  }
  writeU32(address: number, value: number): void {
    const { ram, offset } = this.locate(address, 4);
    ram.view.setUint32(offset, value >>> 0, true);
    ram.markDirty(offset, 4);
  }
  writeU64(address: number, value: bigint): void {
    const { ram, offset } = this.locate(address, 8);
    ram.view.setBigUint64(offset, BigInt.asUintN(64, value), true);
    ram.markDirty(offset, 8);
  }
}
