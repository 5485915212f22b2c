/**
 * The split virtqueue, device side (virtio 1.2, 2.7): descriptor table (2.7.5),
 * indirect descriptors (2.7.5.3), available ring (2.7.6), used ring (2.7.8) and
 * used-buffer notification suppression with and without VIRTIO_F_EVENT_IDX
 * (2.7.7, 2.7.10).
 *
 * Every guest-provided index, length and address is checked: a malformed chain
 * raises {@link VirtqueueError}, which the transport turns into
 * DEVICE_NEEDS_RESET. A chain is never longer than the table it lives in, so a
 * descriptor loop ends in an error, not a hang.
 */
import { BackplaneError, type GuestMemory } from "@backplane/core";
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
} from "./constants.js";

/** A guest driver broke the virtqueue rules; the device must be reset. */
export class VirtqueueError extends BackplaneError {
  constructor(message: string) {
    super("E_VIRTQUEUE", message);
  }
}

/** One guest buffer of a descriptor chain. */
export interface GuestBuffer {
  readonly addr: number;
  readonly len: number;
}

/** A descriptor chain taken from the available ring: device-readable buffers, then device-writable ones. */
export class DescriptorChain {
  constructor(
    /** Index of the head descriptor, returned in the used ring. */
    readonly head: number,
    readonly readable: readonly GuestBuffer[],
    readonly writable: readonly GuestBuffer[],
  ) {}

  get readableLength(): number {
    return this.readable.reduce((n, b) => n + b.len, 0);
  }

  get writableLength(): number {
    return this.writable.reduce((n, b) => n + b.len, 0);
  }

  /** Gathers `length` bytes of the readable part starting at `offset` (clamped to what exists). */
  read(memory: GuestMemory, offset: number, length: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.min(length, this.readableLength - offset)));
    gather(this.readable, offset, out.length, (addr, pos, n) =>
      memory.read(addr, out.subarray(pos, pos + n)),
    );
    return out;
  }

  /** Scatters `data` into the writable part at `offset`; returns the bytes written (clamped to space). */
  write(memory: GuestMemory, offset: number, data: Uint8Array): number {
    const n = Math.max(0, Math.min(data.length, this.writableLength - offset));
    gather(this.writable, offset, n, (addr, pos, len) => memory.write(addr, data.subarray(pos, pos + len)));
    return n;
  }
}

/** Walks `buffers` from byte `offset` for `length` bytes, calling `fn(guestAddr, positionInRange, count)`. */
function gather(
  buffers: readonly GuestBuffer[],
  offset: number,
  length: number,
  fn: (addr: number, pos: number, n: number) => void,
): void {
  let skip = offset;
  let pos = 0;
  for (const b of buffers) {
    if (pos >= length) return;
    if (skip >= b.len) {
      skip -= b.len;
      continue;
    }
    const n = Math.min(b.len - skip, length - pos);
    fn(b.addr + skip, pos, n);
    pos += n;
    skip = 0;
  }
}

/** Plain-data state of one queue, for snapshots. */
export interface VirtqueueState {
  size: number;
  ready: boolean;
  descAddr: number;
  driverAddr: number;
  deviceAddr: number;
  lastAvailIdx: number;
  usedIdx: number;
  signalledUsedIdx: number;
}

const u16 = (n: number): number => n & 0xffff;

/** Device side of one split virtqueue. */
export class SplitVirtqueue {
  /** Queue size chosen by the driver (QueueNum); 0 until set. */
  size = 0;
  ready = false;
  descAddr = 0;
  driverAddr = 0;
  deviceAddr = 0;
  /** Negotiated VIRTIO_F_EVENT_IDX. */
  eventIdx = false;
  /** Negotiated VIRTIO_F_INDIRECT_DESC. */
  indirect = false;
  private lastAvailIdx = 0;
  private usedIdx = 0;
  private signalledUsedIdx = 0;

  constructor(
    /** QueueNumMax: the largest size the device supports. */
    readonly maxSize: number,
  ) {}

  /** Back to the state after device reset. */
  reset(): void {
    this.size = 0;
    this.ready = false;
    this.descAddr = this.driverAddr = this.deviceAddr = 0;
    this.lastAvailIdx = this.usedIdx = this.signalledUsedIdx = 0;
  }

  /** Checks that the rings the driver set up lie in guest memory (on QueueReady). */
  validate(memory: GuestMemory): void {
    const n = this.size;
    if (n === 0 || n > this.maxSize || (n & (n - 1)) !== 0) {
      throw new VirtqueueError(`queue size ${n} is not a power of two up to ${this.maxSize}`);
    }
    const rings: [string, number, number][] = [
      ["descriptor table", this.descAddr, 16 * n],
      ["available ring", this.driverAddr, 6 + 2 * n],
      ["used ring", this.deviceAddr, 6 + 8 * n],
    ];
    for (const [what, addr, len] of rings) {
      if (!memory.isValid(addr, len))
        throw new VirtqueueError(`${what} at 0x${addr.toString(16)} is outside guest RAM`);
    }
  }

  /** True when the driver has made a buffer available that the device has not taken yet. */
  hasAvailable(memory: GuestMemory): boolean {
    return this.ready && memory.readU16(this.driverAddr + 2) !== this.lastAvailIdx;
  }

  /** Takes the next available chain, or undefined when there is none. */
  pop(memory: GuestMemory): DescriptorChain | undefined {
    if (!this.ready) return undefined;
    const availIdx = memory.readU16(this.driverAddr + 2);
    if (availIdx === this.lastAvailIdx) return undefined;
    if (u16(availIdx - this.lastAvailIdx) > this.size) {
      throw new VirtqueueError(
        `available index jumped by ${u16(availIdx - this.lastAvailIdx)} on a queue of ${this.size}`,
      );
    }
    const head = memory.readU16(this.driverAddr + 4 + 2 * (this.lastAvailIdx % this.size));
    this.lastAvailIdx = u16(this.lastAvailIdx + 1);
    if (this.eventIdx) memory.writeU16(this.deviceAddr + 4 + 8 * this.size, this.lastAvailIdx);
    return this.walk(memory, head);
  }

  private walk(memory: GuestMemory, head: number): DescriptorChain {
    const readable: GuestBuffer[] = [];
    const writable: GuestBuffer[] = [];
    let table = this.descAddr;
    let tableSize = this.size;
    let i = head;
    let seen = 0;
    let inIndirect = false;
    for (;;) {
      if (i >= tableSize) throw new VirtqueueError(`descriptor index ${i} outside a table of ${tableSize}`);
      if (++seen > tableSize) throw new VirtqueueError(`descriptor chain from ${head} loops`);
      const d = table + 16 * i;
      const addr = Number(memory.readU64(d));
      const len = memory.readU32(d + 8);
      const flags = memory.readU16(d + 12);
      const next = memory.readU16(d + 14);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.indirect) throw new VirtqueueError("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
        if (inIndirect) throw new VirtqueueError("indirect descriptor inside an indirect table");
        if (flags & VIRTQ_DESC_F_NEXT) throw new VirtqueueError("indirect descriptor with NEXT set");
        if (len === 0 || len % 16 !== 0)
          throw new VirtqueueError(`indirect table length ${len} is not a multiple of 16`);
        if (!memory.isValid(addr, len))
          throw new VirtqueueError(`indirect table at 0x${addr.toString(16)} is outside guest RAM`);
        table = addr;
        tableSize = len / 16;
        i = 0;
        seen = 0;
        inIndirect = true;
        continue;
      }
      if (!memory.isValid(addr, len)) {
        throw new VirtqueueError(`buffer 0x${addr.toString(16)}+${len} is outside guest RAM`);
      }
      if (flags & VIRTQ_DESC_F_WRITE) {
        writable.push({ addr, len });
      } else {
        if (writable.length > 0)
          throw new VirtqueueError("device-readable buffer after a device-writable one");
        readable.push({ addr, len });
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return new DescriptorChain(head, readable, writable);
      i = next;
    }
  }

  /** Returns a chain to the driver through the used ring with `written` bytes written. */
  push(memory: GuestMemory, head: number, written: number): void {
    const slot = this.deviceAddr + 4 + 8 * (this.usedIdx % this.size);
    memory.writeU32(slot, head);
    memory.writeU32(slot + 4, written);
    this.usedIdx = u16(this.usedIdx + 1);
    memory.writeU16(this.deviceAddr + 2, this.usedIdx);
  }

  /** After pushes: whether the driver asked to be interrupted for them (2.7.7, 2.7.10). */
  shouldInterrupt(memory: GuestMemory): boolean {
    const old = this.signalledUsedIdx;
    const now = this.usedIdx;
    if (old === now) return false;
    this.signalledUsedIdx = now;
    if (this.eventIdx) {
      const usedEvent = memory.readU16(this.driverAddr + 4 + 2 * this.size);
      return u16(now - usedEvent - 1) < u16(now - old);
    }
    return (memory.readU16(this.driverAddr) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  saveState(): VirtqueueState {
    const { size, ready, descAddr, driverAddr, deviceAddr, lastAvailIdx, usedIdx, signalledUsedIdx } = this;
    return { size, ready, descAddr, driverAddr, deviceAddr, lastAvailIdx, usedIdx, signalledUsedIdx };
  }

  loadState(s: VirtqueueState): void {
    Object.assign(this, {
      size: s.size,
      ready: s.ready,
      descAddr: s.descAddr,
      driverAddr: s.driverAddr,
      deviceAddr: s.deviceAddr,
      lastAvailIdx: s.lastAvailIdx,
      usedIdx: s.usedIdx,
      signalledUsedIdx: s.signalledUsedIdx,
    });
  }
}
