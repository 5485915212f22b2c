/**
 * fuzzMmio: drives a device with a deterministic stream of random guest
 * accesses (any offset inside its window, any width, any value, aligned or
 * not, including 8-byte accesses when the device has them), for tests that a
 * misbehaving guest can never make a device throw. Any exception propagates
 * to the caller with the access that caused it.
 */
import type { MmioDevice, NarrowWidth } from "@backplane/core";

/** Options for {@link fuzzMmio}. */
export interface FuzzMmioOptions {
  /** Number of accesses (default 10000). */
  accesses?: number;
  /** PRNG seed (default 1): the same seed gives the same accesses. */
  seed?: number;
}

const WIDTHS: readonly NarrowWidth[] = [1, 2, 4];

/** Performs the accesses; returns how many reads and writes it made. */
export function fuzzMmio(
  device: MmioDevice,
  options: FuzzMmioOptions = {},
): { reads: number; writes: number } {
  let state = (options.seed ?? 1) >>> 0 || 1;
  // xorshift32: small, fast and deterministic.
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const counts = { reads: 0, writes: 0 };
  const total = options.accesses ?? 10_000;
  for (let i = 0; i < total; i++) {
    const offset = next() % device.size;
    const pick = next() % 8;
    const value = next();
    const write = (next() & 1) === 1;
    const wide = pick === 7 && device.read64 !== undefined && device.write64 !== undefined;
    const width = wide ? 8 : WIDTHS[pick % 3];
    try {
      if (wide && write) device.write64?.(offset, (BigInt(value) << 32n) | BigInt(next()));
      else if (wide) device.read64?.(offset);
      else if (write) device.write(offset, width as NarrowWidth, value);
      else device.read(offset, width as NarrowWidth);
    } catch (error) {
      const kind = write ? "write" : "read";
      throw new Error(`device threw on a ${width}-byte ${kind} at 0x${offset.toString(16)}`, {
        cause: error,
      });
    }
    if (write) counts.writes++;
    else counts.reads++;
  }
  return counts;
}
