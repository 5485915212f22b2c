/**
 * A guest-physical address space: RAM, ROM and MMIO devices mapped at base
 * addresses, as a system bus presents them to a CPU and to DMA.
 *
 * - Mapping over an existing region throws {@link OverlapError} naming both.
 * - Devices see offsets inside their window and only the widths they declare
 *   (`MmioDevice.widths`); other widths are adapted here: a narrower access is
 *   served from the smallest wider width the device implements (writes by
 *   read-modify-write), a wider one is split into halves, low half first, and
 *   an 8-byte access uses `read64`/`write64` when present.
 * - Unmapped accesses and writes to ROM never throw: they return a status the
 *   CPU turns into an access fault, and call the matching event hook.
 * - The CPU fast path: {@link AddressSpace.lookup} returns the {@link Region},
 *   whose `block` exposes the backing typed arrays; the CPU caches that in its
 *   TLB and reads RAM directly (and sets `Ram.dirty` for the pages it writes).
 *
 * Deviation: an access that straddles the end of a region is reported as
 * unmapped instead of being split across two regions.
 */
import { InvalidArgumentError, type MmioDevice, type NarrowWidth, OverlapError } from "@backplane/core";
import { type MemoryBlock, PAGE_SIZE, Ram, Rom } from "./block.js";

/** Returned by {@link AddressSpace.read} for an unmapped address. */
export const UNMAPPED = -1;
/** Returned by {@link AddressSpace.read64} for an unmapped address. */
export const UNMAPPED64 = -1n;

/** Status of a write. */
export const WRITE_OK = 0;
/** The address is not mapped. */
export const WRITE_UNMAPPED = 1;
/** The address is ROM; the write was ignored. */
export const WRITE_READ_ONLY = 2;
export type WriteStatus = typeof WRITE_OK | typeof WRITE_UNMAPPED | typeof WRITE_READ_ONLY;

/** Optional hooks for metrics and tracing; all default to no-ops. */
export interface AddressSpaceEvents {
  /** An access hit no region (or straddled a region's end). */
  onUnmapped?(address: number, width: number, isWrite: boolean): void;
  /** A write hit ROM and was ignored. */
  onRomWrite?(address: number, width: number): void;
}

/** One mapping: a RAM/ROM block or an MMIO device at `[base, end)`. */
export class Region {
  /** End address (exclusive). */
  readonly end: number;
  /** RAM, when this region is RAM. */
  readonly ram: Ram | null;
  /** Bitmask of the device's native widths (bit `w` set for width `w`). */
  readonly widthMask: number;

  constructor(
    readonly name: string,
    readonly base: number,
    readonly size: number,
    /** RAM or ROM backing, `null` for a device. */
    readonly block: MemoryBlock | null,
    /** The device, `null` for RAM/ROM. */
    readonly device: MmioDevice | null,
  ) {
    this.end = base + size;
    this.ram = block instanceof Ram ? block : null;
    let mask = 0;
    for (const w of device?.widths ?? []) mask |= 1 << w;
    this.widthMask = mask;
  }
}

const WIDER: readonly NarrowWidth[] = [2, 4];

function deviceRead(region: Region, offset: number, width: NarrowWidth): number {
  const device = region.device as MmioDevice;
  if (region.widthMask & (1 << width)) return device.read(offset, width) >>> 0;
  for (const w of WIDER) {
    if (w <= width || !(region.widthMask & (1 << w))) continue;
    const unit = offset & ~(w - 1);
    if (offset + width > unit + w) break;
    const shift = (offset - unit) * 8;
    const value = device.read(unit, w) >>> shift;
    return width === 4 ? value >>> 0 : value & ((1 << (width * 8)) - 1);
  }
  if (width === 1) return 0; // a device that implements no width at all
  const half = (width >> 1) as NarrowWidth;
  const low = deviceRead(region, offset, half);
  const high = deviceRead(region, offset + half, half);
  return (low + high * 2 ** (half * 8)) >>> 0;
}

function deviceWrite(region: Region, offset: number, width: NarrowWidth, value: number): void {
  const device = region.device as MmioDevice;
  if (region.widthMask & (1 << width)) {
    device.write(offset, width, width === 4 ? value >>> 0 : value & ((1 << (width * 8)) - 1));
    return;
  }
  for (const w of WIDER) {
    if (w <= width || !(region.widthMask & (1 << w))) continue;
    const unit = offset & ~(w - 1);
    if (offset + width > unit + w) break;
    const shift = (offset - unit) * 8;
    const mask = ((width === 4 ? 0xffffffff : (1 << (width * 8)) - 1) << shift) >>> 0;
    const old = device.read(unit, w);
    device.write(unit, w, ((old & ~mask) | ((value << shift) & mask)) >>> 0);
    return;
  }
  if (width === 1) return;
  const half = (width >> 1) as NarrowWidth;
  deviceWrite(region, offset, half, value);
  deviceWrite(region, offset + half, half, value >>> (half * 8));
}

/** Guest-physical address space of one machine. */
export class AddressSpace {
  private readonly regions: Region[] = [];
  private last: Region | undefined;
  private readonly events: AddressSpaceEvents;

  constructor(events: AddressSpaceEvents = {}) {
    this.events = events;
  }

  /** Every mapped region, sorted by base address. */
  get mappings(): readonly Region[] {
    return this.regions;
  }

  /** Maps RAM of `size` bytes at `base` and returns it. */
  addRam(name: string, base: number, size: number): Ram {
    const ram = new Ram(size);
    this.insert(new Region(name, base, size, ram, null));
    return ram;
  }

  /** Maps a ROM holding `image` at `base` and returns it. */
  addRom(name: string, base: number, image: Uint8Array, size?: number): Rom {
    const rom = new Rom(image, size);
    this.insert(new Region(name, base, rom.size, rom, null));
    return rom;
  }

  /** Maps an existing RAM or ROM block at `base`. */
  addBlock(name: string, base: number, block: MemoryBlock): void {
    this.insert(new Region(name, base, block.size, block, null));
  }

  /** Maps an MMIO device's window at `base`. */
  addDevice(name: string, base: number, device: MmioDevice): void {
    this.insert(new Region(name, base, device.size, null, device));
  }

  private insert(region: Region): void {
    if (!Number.isSafeInteger(region.base) || region.base < 0 || !Number.isSafeInteger(region.end)) {
      throw new InvalidArgumentError(
        `region "${region.name}" has an invalid base 0x${region.base.toString(16)}`,
      );
    }
    if (!(region.size > 0)) throw new InvalidArgumentError(`region "${region.name}" has size ${region.size}`);
    for (const other of this.regions) {
      if (region.base < other.end && other.base < region.end) {
        throw new OverlapError(
          `region "${region.name}" [0x${region.base.toString(16)}, 0x${region.end.toString(16)}) overlaps ` +
            `"${other.name}" [0x${other.base.toString(16)}, 0x${other.end.toString(16)})`,
        );
      }
    }
    this.regions.push(region);
    this.regions.sort((a, b) => a.base - b.base);
  }

  /** The region containing `address`, or `undefined`. */
  lookup(address: number): Region | undefined {
    const last = this.last;
    if (last !== undefined && address >= last.base && address < last.end) return last;
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = regions[mid];
      if (address < r.base) hi = mid - 1;
      else if (address >= r.end) lo = mid + 1;
      else {
        this.last = r;
        return r;
      }
    }
    return undefined;
  }

  private regionFor(address: number, width: number, isWrite: boolean): Region | undefined {
    const region = this.lookup(address);
    if (region === undefined || address + width > region.end) {
      this.events.onUnmapped?.(address, width, isWrite);
      return undefined;
    }
    return region;
  }

  /**
   * Fast path for aligned 32-bit RAM/ROM reads: returns the word as a signed
   * int32, or falls back to {@link read} (returning {@link UNMAPPED} as
   * `undefined`) for anything else. The last block hit is kept in monomorphic
   * fields so the common case is a compare and an Int32Array load.
   */
  readWord(address: number): number | undefined {
    const offset = address - this.fastBase;
    if (offset >= 0 && offset < this.fastSize && (offset & 3) === 0) return this.fastWords[offset >>> 2];
    return this.readWordSlow(address);
  }

  /** Fast path for aligned 32-bit RAM writes; returns the same status as {@link write}. */
  writeWord(address: number, value: number): WriteStatus {
    const offset = address - this.fastWriteBase;
    if (offset >= 0 && offset < this.fastWriteSize && (offset & 3) === 0) {
      this.fastWriteWords[offset >>> 2] = value;
      const dirty = this.fastWriteDirty.dirty;
      if (dirty !== null) dirty[offset >>> 12] = 1;
      return WRITE_OK;
    }
    return this.writeWordSlow(address, value);
  }

  private fastBase = 0;
  private fastSize = 0;
  private fastWords: Int32Array = new Int32Array(0);
  private fastWriteBase = 0;
  private fastWriteSize = 0;
  private fastWriteWords: Int32Array = new Int32Array(0);
  private fastWriteDirty = new Ram(PAGE_SIZE);

  private readWordSlow(address: number): number | undefined {
    const region = this.lookup(address);
    if (region?.block != null) {
      this.fastBase = region.base;
      this.fastSize = region.size;
      this.fastWords = region.block.words;
    }
    const value = this.read(address, 4);
    return value === UNMAPPED ? undefined : value | 0;
  }

  private writeWordSlow(address: number, value: number): WriteStatus {
    const region = this.lookup(address);
    if (region?.ram != null) {
      this.fastWriteBase = region.base;
      this.fastWriteSize = region.size;
      this.fastWriteWords = region.ram.words;
      this.fastWriteDirty = region.ram;
    }
    return this.write(address, 4, value);
  }

  /** Reads 1, 2 or 4 bytes (unsigned); returns {@link UNMAPPED} when nothing is mapped there. */
  read(address: number, width: NarrowWidth): number {
    const region = this.regionFor(address, width, false);
    if (region === undefined) return UNMAPPED;
    const offset = address - region.base;
    const block = region.block;
    if (block !== null) {
      const view = block.view;
      return width === 4
        ? view.getUint32(offset, true)
        : width === 2
          ? view.getUint16(offset, true)
          : view.getUint8(offset);
    }
    return deviceRead(region, offset, width);
  }

  /** Writes the low 1, 2 or 4 bytes of `value`. */
  write(address: number, width: NarrowWidth, value: number): WriteStatus {
    const region = this.regionFor(address, width, true);
    if (region === undefined) return WRITE_UNMAPPED;
    const offset = address - region.base;
    const block = region.block;
    if (block !== null) {
      if (block.readOnly) {
        this.events.onRomWrite?.(address, width);
        return WRITE_READ_ONLY;
      }
      const view = block.view;
      if (width === 4) view.setUint32(offset, value >>> 0, true);
      else if (width === 2) view.setUint16(offset, value & 0xffff, true);
      else view.setUint8(offset, value & 0xff);
      (block as Ram).markDirty(offset, width);
      return WRITE_OK;
    }
    deviceWrite(region, offset, width, value);
    return WRITE_OK;
  }

  /** Reads 8 bytes (unsigned); returns {@link UNMAPPED64} when nothing is mapped there. */
  read64(address: number): bigint {
    const region = this.regionFor(address, 8, false);
    if (region === undefined) return UNMAPPED64;
    const offset = address - region.base;
    if (region.block !== null) return region.block.view.getBigUint64(offset, true);
    const device = region.device as MmioDevice;
    if (device.read64 !== undefined) return BigInt.asUintN(64, device.read64(offset));
    const low = deviceRead(region, offset, 4);
    const high = deviceRead(region, offset + 4, 4);
    return (BigInt(high) << 32n) | BigInt(low);
  }

  /** Writes 8 bytes. */
  write64(address: number, value: bigint): WriteStatus {
    const region = this.regionFor(address, 8, true);
    if (region === undefined) return WRITE_UNMAPPED;
    const offset = address - region.base;
    const block = region.block;
    if (block !== null) {
      if (block.readOnly) {
        this.events.onRomWrite?.(address, 8);
        return WRITE_READ_ONLY;
      }
      block.view.setBigUint64(offset, BigInt.asUintN(64, value), true);
      (block as Ram).markDirty(offset, 8);
      return WRITE_OK;
    }
    const device = region.device as MmioDevice;
    if (device.write64 !== undefined) {
      device.write64(offset, BigInt.asUintN(64, value));
      return WRITE_OK;
    }
    deviceWrite(region, offset, 4, Number(value & 0xffffffffn));
    deviceWrite(region, offset + 4, 4, Number((value >> 32n) & 0xffffffffn));
    return WRITE_OK;
  }
}
