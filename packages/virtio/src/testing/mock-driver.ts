/**
 * A mock virtio driver: plays the guest side of the MMIO transport in tests,
 * through the registers only, following the driver initialization sequence of
 * virtio 1.2, 3.1.1 and the split-ring rules of 2.7.13 (supplying buffers) and
 * 2.7.14 (receiving used buffers). It keeps its rings in a region of guest
 * memory it is given. Low-level methods (`writeDescriptor`, `publish`) let
 * tests build malformed chains on purpose.
 */
import type { GuestMemory, MmioDevice } from "@backplane/core";
import { InvalidArgumentError } from "@backplane/core";
import * as R from "../constants.js";

/** One descriptor as the driver writes it. */
export interface RawDescriptor {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

/** A used-ring element read back by the driver. */
export interface UsedElement {
  id: number;
  len: number;
}

interface DriverQueue {
  size: number;
  desc: number;
  avail: number;
  used: number;
  availIdx: number;
  lastUsed: number;
  nextFree: number;
}

export interface MockDriverOptions {
  /** First guest-physical address the driver may use for rings and buffers. */
  heapBase: number;
  /** Bytes available from heapBase. */
  heapSize: number;
}

export class MockVirtioDriver {
  private heapNext: number;
  private readonly heapEnd: number;
  private readonly queues: DriverQueue[] = [];
  /** Features accepted during init. */
  features = 0n;

  constructor(
    readonly transport: MmioDevice,
    readonly memory: GuestMemory,
    options: MockDriverOptions,
  ) {
    this.heapNext = options.heapBase;
    this.heapEnd = options.heapBase + options.heapSize;
  }

  reg(offset: number): number {
    return this.transport.read(offset, 4);
  }

  setReg(offset: number, value: number): void {
    this.transport.write(offset, 4, value >>> 0);
  }

  /** Allocates guest memory from the driver's heap. */
  alloc(length: number, align = 16): number {
    const addr = Math.ceil(this.heapNext / align) * align;
    if (addr + length > this.heapEnd) throw new InvalidArgumentError("mock driver heap exhausted");
    this.heapNext = addr + length;
    return addr;
  }

  /** Copies bytes into a fresh guest buffer and returns its address. */
  put(data: Uint8Array): number {
    const addr = this.alloc(Math.max(1, data.length));
    this.memory.write(addr, data);
    return addr;
  }

  /** Offered device features (both 32-bit halves). */
  deviceFeatures(): bigint {
    this.setReg(R.DeviceFeaturesSel, 0);
    const lo = BigInt(this.reg(R.DeviceFeatures));
    this.setReg(R.DeviceFeaturesSel, 1);
    return (BigInt(this.reg(R.DeviceFeatures)) << 32n) | lo;
  }

  /**
   * Runs the initialization sequence (3.1.1): reset, ACKNOWLEDGE, DRIVER,
   * feature negotiation, FEATURES_OK, queue setup, DRIVER_OK. Accepts
   * `accept & offered` (default: everything offered). Returns the final status.
   */
  init(options: { accept?: bigint; queueSize?: number; driverOk?: boolean } = {}): number {
    this.setReg(R.Status, 0);
    this.setReg(R.Status, R.STATUS_ACKNOWLEDGE);
    this.setReg(R.Status, R.STATUS_ACKNOWLEDGE | R.STATUS_DRIVER);
    const offered = this.deviceFeatures();
    this.features = (options.accept ?? offered) & offered;
    this.setFeatures(this.features);
    this.setReg(R.Status, R.STATUS_ACKNOWLEDGE | R.STATUS_DRIVER | R.STATUS_FEATURES_OK);
    if (!(this.reg(R.Status) & R.STATUS_FEATURES_OK)) return this.reg(R.Status);
    this.queues.length = 0;
    for (let i = 0; ; i++) {
      this.setReg(R.QueueSel, i);
      const max = this.reg(R.QueueNumMax);
      if (max === 0) break;
      this.setupQueue(i, Math.min(max, options.queueSize ?? max));
    }
    if (options.driverOk !== false) {
      this.setReg(
        R.Status,
        R.STATUS_ACKNOWLEDGE | R.STATUS_DRIVER | R.STATUS_FEATURES_OK | R.STATUS_DRIVER_OK,
      );
    }
    return this.reg(R.Status);
  }

  /** Writes DriverFeatures without checking them (tests use it to misbehave). */
  setFeatures(features: bigint): void {
    this.setReg(R.DriverFeaturesSel, 0);
    this.setReg(R.DriverFeatures, Number(features & 0xffff_ffffn));
    this.setReg(R.DriverFeaturesSel, 1);
    this.setReg(R.DriverFeatures, Number((features >> 32n) & 0xffff_ffffn));
  }

  /** Allocates and programs the rings of queue `index`, then sets QueueReady. */
  setupQueue(index: number, size: number): void {
    const q: DriverQueue = {
      size,
      desc: this.alloc(16 * size, 16),
      avail: this.alloc(6 + 2 * size, 2),
      used: this.alloc(6 + 8 * size, 4),
      availIdx: 0,
      lastUsed: 0,
      nextFree: 0,
    };
    this.queues[index] = q;
    this.setReg(R.QueueSel, index);
    this.setReg(R.QueueNum, size);
    for (const [lo, addr] of [
      [R.QueueDescLow, q.desc],
      [R.QueueDriverLow, q.avail],
      [R.QueueDeviceLow, q.used],
    ] as const) {
      this.setReg(lo, addr % 2 ** 32);
      this.setReg(lo + 4, Math.floor(addr / 2 ** 32));
    }
    this.setReg(R.QueueReady, 1);
  }

  private queue(index: number): DriverQueue {
    const q = this.queues[index];
    if (!q) throw new InvalidArgumentError(`queue ${index} was not set up`);
    return q;
  }

  /** Writes descriptor `i` of queue `queue`'s table (or of a table at `table`). */
  writeDescriptor(queue: number, i: number, d: RawDescriptor, table = this.queue(queue).desc): void {
    const at = table + 16 * i;
    this.memory.writeU64(at, BigInt(d.addr));
    this.memory.writeU32(at + 8, d.len);
    this.memory.writeU16(at + 12, d.flags);
    this.memory.writeU16(at + 14, d.next);
  }

  /** Puts `head` on the available ring and bumps its index (no notify). */
  publish(queue: number, head: number): void {
    const q = this.queue(queue);
    this.memory.writeU16(q.avail + 4 + 2 * (q.availIdx % q.size), head);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    this.memory.writeU16(q.avail + 2, q.availIdx);
  }

  notify(queue: number): void {
    this.setReg(R.QueueNotify, queue);
  }

  /**
   * Submits a request: device-readable buffers with `out`'s bytes, then
   * device-writable buffers of `inLengths` bytes. Returns the head index and
   * the addresses of the writable buffers.
   */
  submit(
    queue: number,
    out: readonly Uint8Array[],
    inLengths: readonly number[],
    options: { indirect?: boolean; notify?: boolean } = {},
  ): { head: number; inAddrs: number[] } {
    const q = this.queue(queue);
    const inAddrs = inLengths.map((n) => this.alloc(Math.max(1, n)));
    const descs: RawDescriptor[] = [
      ...out.map((b) => ({ addr: this.put(b), len: b.length, flags: 0, next: 0 })),
      ...inLengths.map((n, k) => ({ addr: inAddrs[k], len: n, flags: R.VIRTQ_DESC_F_WRITE, next: 0 })),
    ];
    let head: number;
    if (options.indirect) {
      const table = this.alloc(16 * descs.length, 16);
      descs.forEach((d, k) => {
        const last = k === descs.length - 1;
        this.writeDescriptor(
          queue,
          k,
          { ...d, flags: d.flags | (last ? 0 : R.VIRTQ_DESC_F_NEXT), next: k + 1 },
          table,
        );
      });
      head = this.takeDescriptors(q, 1)[0];
      this.writeDescriptor(queue, head, {
        addr: table,
        len: 16 * descs.length,
        flags: R.VIRTQ_DESC_F_INDIRECT,
        next: 0,
      });
    } else {
      const ids = this.takeDescriptors(q, descs.length);
      descs.forEach((d, k) => {
        const last = k === descs.length - 1;
        this.writeDescriptor(queue, ids[k], {
          ...d,
          flags: d.flags | (last ? 0 : R.VIRTQ_DESC_F_NEXT),
          next: ids[k + 1] ?? 0,
        });
      });
      head = ids[0];
    }
    this.publish(queue, head);
    if (options.notify !== false) this.notify(queue);
    return { head, inAddrs };
  }

  private takeDescriptors(q: DriverQueue, n: number): number[] {
    return Array.from({ length: n }, () => {
      const id = q.nextFree;
      q.nextFree = (q.nextFree + 1) % q.size;
      return id;
    });
  }

  /** Used elements the device returned since the last call (2.7.14). */
  takeUsed(queue: number): UsedElement[] {
    const q = this.queue(queue);
    const idx = this.memory.readU16(q.used + 2);
    const out: UsedElement[] = [];
    while (q.lastUsed !== idx) {
      const slot = q.used + 4 + 8 * (q.lastUsed % q.size);
      out.push({ id: this.memory.readU32(slot), len: this.memory.readU32(slot + 4) });
      q.lastUsed = (q.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** Sets the available ring's used_event field (with EVENT_IDX) or NO_INTERRUPT flag. */
  suppressInterrupts(queue: number, how: { usedEvent?: number; noInterrupt?: boolean }): void {
    const q = this.queue(queue);
    if (how.usedEvent !== undefined) this.memory.writeU16(q.avail + 4 + 2 * q.size, how.usedEvent);
    if (how.noInterrupt !== undefined)
      this.memory.writeU16(q.avail, how.noInterrupt ? R.VIRTQ_AVAIL_F_NO_INTERRUPT : 0);
  }

  /** Reads guest bytes. */
  read(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.memory.read(addr, out);
    return out;
  }

  /** Reads InterruptStatus and acknowledges it; returns the bits. */
  ackInterrupt(): number {
    const s = this.reg(R.InterruptStatus);
    this.setReg(R.InterruptACK, s);
    return s;
  }
}
