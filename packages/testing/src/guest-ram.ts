/**
 * FakeGuestRam: a {@link GuestMemory} over one Uint8Array mapped at a base
 * address, for testing DMA-capable devices. Every access is bounds-checked and
 * throws `GuestMemoryFault` when any byte falls outside RAM. Multi-byte
 * helpers are little-endian, as on RISC-V.
 */
import {
  type GuestMemory,
  GuestMemoryFault,
  InvalidArgumentError,
  readU16LE,
  readU32LE,
  readU64LE,
  writeU16LE,
  writeU32LE,
  writeU64LE,
} from "@backplane/core";

export class FakeGuestRam implements GuestMemory {
  /** RAM contents; byte 0 is guest-physical address `base`. */
  readonly bytes: Uint8Array;
  /** Guest-physical address of the first byte. */
  readonly base: number;

  constructor(size: number, base = 0) {
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError(`bad RAM size ${size}`);
    if (!Number.isSafeInteger(base) || base < 0) throw new InvalidArgumentError(`bad RAM base ${base}`);
    this.bytes = new Uint8Array(size);
    this.base = base;
  }

  isValid(address: number, length: number): boolean {
    return (
      Number.isSafeInteger(address) &&
      Number.isSafeInteger(length) &&
      length >= 0 &&
      address >= this.base &&
      address + length <= this.base + this.bytes.length
    );
  }

  read(address: number, dest: Uint8Array): void {
    const o = this.offset(address, dest.length);
    dest.set(this.bytes.subarray(o, o + dest.length));
  }

  write(address: number, src: Uint8Array): void {
    this.bytes.set(src, this.offset(address, src.length));
  }

  view(address: number, length: number): Uint8Array {
    const o = this.offset(address, length);
    return this.bytes.subarray(o, o + length);
  }

  readU8(address: number): number {
    return this.bytes[this.offset(address, 1)];
  }
  readU16(address: number): number {
    return readU16LE(this.bytes, this.offset(address, 2));
  }
  readU32(address: number): number {
    return readU32LE(this.bytes, this.offset(address, 4));
  }
  readU64(address: number): bigint {
    return readU64LE(this.bytes, this.offset(address, 8));
  }
  writeU8(address: number, value: number): void {
    this.bytes[this.offset(address, 1)] = value;
  }
  writeU16(address: number, value: number): void {
    writeU16LE(this.bytes, this.offset(address, 2), value);
  }
  writeU32(address: number, value: number): void {
    writeU32LE(this.bytes, this.offset(address, 4), value);
  }
  writeU64(address: number, value: bigint): void {
    writeU64LE(this.bytes, this.offset(address, 8), value);
  }

  private offset(address: number, length: number): number {
    if (!this.isValid(address, length)) throw new GuestMemoryFault(address, length);
    return address - this.base;
  }
}
