/**
 * Little- and big-endian integer helpers over byte arrays.
 *
 * RISC-V, virtio and most image formats are little-endian; the device tree,
 * VHD and parts of VMDK are big-endian. 64-bit values are bigints.
 * Reads past the end of the array throw a RangeError.
 */

function check(bytes: Uint8Array, offset: number, length: number): void {
  if (!(offset >= 0 && offset + length <= bytes.length)) {
    throw new RangeError(`offset ${offset} (+${length}) outside ${bytes.length}-byte buffer`);
  }
}

export function readU16LE(b: Uint8Array, o: number): number {
  check(b, o, 2);
  return b[o] | (b[o + 1] << 8);
}
export function readU32LE(b: Uint8Array, o: number): number {
  check(b, o, 4);
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
export function readU64LE(b: Uint8Array, o: number): bigint {
  return (BigInt(readU32LE(b, o + 4)) << 32n) | BigInt(readU32LE(b, o));
}
export function readU16BE(b: Uint8Array, o: number): number {
  check(b, o, 2);
  return (b[o] << 8) | b[o + 1];
}
export function readU32BE(b: Uint8Array, o: number): number {
  check(b, o, 4);
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
export function readU64BE(b: Uint8Array, o: number): bigint {
  return (BigInt(readU32BE(b, o)) << 32n) | BigInt(readU32BE(b, o + 4));
}

export function writeU16LE(b: Uint8Array, o: number, v: number): void {
  check(b, o, 2);
  b[o] = v;
  b[o + 1] = v >>> 8;
}
export function writeU32LE(b: Uint8Array, o: number, v: number): void {
  check(b, o, 4);
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}
export function writeU64LE(b: Uint8Array, o: number, v: bigint): void {
  writeU32LE(b, o, Number(v & 0xffffffffn));
  writeU32LE(b, o + 4, Number((v >> 32n) & 0xffffffffn));
}
export function writeU16BE(b: Uint8Array, o: number, v: number): void {
  check(b, o, 2);
  b[o] = v >>> 8;
  b[o + 1] = v;
}
export function writeU32BE(b: Uint8Array, o: number, v: number): void {
  check(b, o, 4);
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
export function writeU64BE(b: Uint8Array, o: number, v: bigint): void {
  writeU32BE(b, o, Number((v >> 32n) & 0xffffffffn));
  writeU32BE(b, o + 4, Number(v & 0xffffffffn));
}

/** Reads a 64-bit little-endian value as a number; throws if it exceeds 2^53 - 1. */
export function readSafeU64LE(b: Uint8Array, o: number): number {
  const hi = readU32LE(b, o + 4);
  if (hi > 0x1fffff) throw new RangeError(`64-bit value at offset ${o} exceeds 2^53`);
  return hi * 0x1_0000_0000 + readU32LE(b, o);
}

/** Reads a 64-bit big-endian value as a number; throws if it exceeds 2^53 - 1. */
export function readSafeU64BE(b: Uint8Array, o: number): number {
  const hi = readU32BE(b, o);
  if (hi > 0x1fffff) throw new RangeError(`64-bit value at offset ${o} exceeds 2^53`);
  return hi * 0x1_0000_0000 + readU32BE(b, o + 4);
}
