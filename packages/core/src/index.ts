/**
 * @backplane/core — the contracts every Backplane component plugs into.
 * Types and a few tiny helpers only; no dependencies, no host APIs.
 */

export type { BlockBackend, CharBackend, NetBackend, WriteZeroesOptions } from "./backends.js";
export type { Clock, TimerHandle, Timers, WallClock } from "./clock.js";
export {
  readSafeU64BE,
  readSafeU64LE,
  readU16BE,
  readU16LE,
  readU32BE,
  readU32LE,
  readU64BE,
  readU64LE,
  writeU16BE,
  writeU16LE,
  writeU32BE,
  writeU32LE,
  writeU64BE,
  writeU64LE,
} from "./endian.js";
export {
  BackplaneError,
  CorruptDataError,
  GuestMemoryFault,
  InvalidArgumentError,
  NetworkError,
  NotFoundError,
  OverlapError,
  ReadOnlyError,
  UnsupportedError,
} from "./errors.js";
export type { IrqLine, IrqSink } from "./irq.js";
export { NO_IRQ } from "./irq.js";
export type { GuestMemory } from "./memory.js";
export type { AccessWidth, MmioDevice, NarrowWidth } from "./mmio.js";
export type { Snapshotable, VersionedState } from "./snapshot.js";
