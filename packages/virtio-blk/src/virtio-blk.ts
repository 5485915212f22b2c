/**
 * virtio-blk device logic (virtio 1.2, 5.2): one request queue; IN, OUT,
 * FLUSH, GET_ID, DISCARD and WRITE_ZEROES requests (5.2.6) against any
 * `BlockBackend`; read-only disks advertise VIRTIO_BLK_F_RO and fail writes.
 *
 * Requests run asynchronously and complete (used ring + interrupt) when the
 * backend's promise settles, so the CPU loop never waits on host I/O. A
 * request outside the disk, or one the backend fails, completes with
 * VIRTIO_BLK_S_IOERR; an unknown type with VIRTIO_BLK_S_UNSUPP; a chain with
 * no room for the status byte puts the device into DEVICE_NEEDS_RESET.
 * Deviation: no multiqueue, no secure erase, no lifetime or zoned commands;
 * write cache is always write-back and FLUSH reaches the backend's flush.
 */
import type { BlockBackend, NarrowWidth } from "@backplane/core";
import { writeU16LE, writeU32LE, writeU64LE } from "@backplane/core";
import {
  type DescriptorChain,
  readConfigBytes,
  type VirtioDevice,
  type VirtioDeviceContext,
} from "@backplane/virtio";

/** Feature bits (5.2.3). */
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;
export const VIRTIO_BLK_F_DISCARD = 13;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;

/** Request types (5.2.6). */
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;

/** Request status values (5.2.6). */
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

/** Unmap flag of a discard/write-zeroes segment. */
export const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;

export const VIRTIO_ID_BLOCK = 2;
const SECTOR = 512;
const QUEUE_SIZE = 256;
const HEADER = 16;
const SEGMENT = 16;
const ID_BYTES = 20;
const MAX_SEGMENTS = 1;
const MAX_DISCARD_SECTORS = 0x3f_ffff;

export interface VirtioBlkHooks {
  /** The backend failed a request (the guest saw VIRTIO_BLK_S_IOERR). */
  onIoError?(error: unknown): void;
  /** The guest sent a request the device refused (out of range, unsupported, malformed). */
  onGuestError?(message: string): void;
}

export interface VirtioBlkOptions {
  backend: BlockBackend;
  /** Serial number returned by GET_ID (up to 20 bytes). */
  serial?: string;
  hooks?: VirtioBlkHooks;
}

const bit = (n: number): bigint => 1n << BigInt(n);

export class VirtioBlk implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly features: bigint;
  readonly queueMaxSizes = [QUEUE_SIZE];
  readonly configSize = 60;
  private readonly backend: BlockBackend;
  private readonly config = new Uint8Array(60);
  private readonly serial: Uint8Array;
  private readonly hooks: VirtioBlkHooks;
  private context: VirtioDeviceContext | undefined;
  /** Requests handed to the backend and not yet completed. */
  inFlight = 0;

  constructor(options: VirtioBlkOptions) {
    this.backend = options.backend;
    this.hooks = options.hooks ?? {};
    this.serial = new TextEncoder().encode(options.serial ?? "").subarray(0, ID_BYTES);
    const b = this.backend;
    this.features =
      bit(VIRTIO_BLK_F_SEG_MAX) |
      bit(VIRTIO_BLK_F_BLK_SIZE) |
      bit(VIRTIO_BLK_F_FLUSH) |
      (b.readOnly ? bit(VIRTIO_BLK_F_RO) : 0n) |
      (b.discard && !b.readOnly ? bit(VIRTIO_BLK_F_DISCARD) : 0n) |
      (b.writeZeroes && !b.readOnly ? bit(VIRTIO_BLK_F_WRITE_ZEROES) : 0n);
    const c = this.config;
    writeU64LE(c, 0, BigInt(Math.floor(b.size / SECTOR))); // capacity
    writeU32LE(c, 12, QUEUE_SIZE - 2); // seg_max
    writeU32LE(c, 20, SECTOR); // blk_size
    writeU16LE(c, 34, 1); // num_queues
    writeU32LE(c, 36, MAX_DISCARD_SECTORS); // max_discard_sectors
    writeU32LE(c, 40, MAX_SEGMENTS); // max_discard_seg
    writeU32LE(c, 44, 1); // discard_sector_alignment
    writeU32LE(c, 48, MAX_DISCARD_SECTORS); // max_write_zeroes_sectors
    writeU32LE(c, 52, MAX_SEGMENTS); // max_write_zeroes_seg
    c[56] = 1; // write_zeroes_may_unmap
  }

  readConfig(offset: number, width: NarrowWidth): number {
    return readConfigBytes(this.config, offset, width);
  }

  writeConfig(): void {
    // Only the writeback field is writable, with VIRTIO_BLK_F_CONFIG_WCE, which is not offered.
  }

  activate(context: VirtioDeviceContext): void {
    this.context = context;
  }

  reset(): void {
    this.context = undefined;
  }

  queueNotify(index: number): void {
    const ctx = this.context;
    if (!ctx || index !== 0) return;
    for (let chain = ctx.pop(0); chain; chain = ctx.pop(0)) {
      if (chain.writableLength < 1) {
        ctx.fail("virtio-blk request has no status byte");
        return;
      }
      this.inFlight++;
      this.execute(ctx, chain).then(
        ({ status, written }) => this.finish(ctx, chain, status, written),
        (error: unknown) => {
          this.hooks.onIoError?.(error);
          this.finish(ctx, chain, VIRTIO_BLK_S_IOERR, 0);
        },
      );
    }
  }

  private finish(ctx: VirtioDeviceContext, chain: DescriptorChain, status: number, written: number): void {
    this.inFlight--;
    if (!ctx.active) return;
    const statusAt = chain.writableLength - 1;
    chain.write(ctx.memory, statusAt, Uint8Array.of(status));
    ctx.complete(0, chain, written + 1);
  }

  private refuse(message: string, status = VIRTIO_BLK_S_IOERR): { status: number; written: number } {
    this.hooks.onGuestError?.(message);
    return { status, written: 0 };
  }

  private inRange(sector: number, bytes: number): boolean {
    return Number.isSafeInteger(sector) && sector * SECTOR + bytes <= this.backend.size;
  }

  private async execute(
    ctx: VirtioDeviceContext,
    chain: DescriptorChain,
  ): Promise<{ status: number; written: number }> {
    const mem = ctx.memory;
    if (chain.readableLength < HEADER) return this.refuse("virtio-blk request header shorter than 16 bytes");
    const header = chain.read(mem, 0, HEADER);
    const dv = new DataView(header.buffer);
    const type = dv.getUint32(0, true);
    const sector = Number(dv.getBigUint64(8, true));
    const b = this.backend;
    switch (type) {
      case VIRTIO_BLK_T_IN: {
        const length = chain.writableLength - 1;
        if (!this.inRange(sector, length))
          return this.refuse(`read of ${length} bytes at sector ${sector} past the disk`);
        const data = new Uint8Array(length);
        await b.read(sector * SECTOR, data);
        if (!ctx.active) return { status: VIRTIO_BLK_S_OK, written: 0 };
        return { status: VIRTIO_BLK_S_OK, written: chain.write(mem, 0, data) };
      }
      case VIRTIO_BLK_T_OUT: {
        const length = chain.readableLength - HEADER;
        if (b.readOnly) return this.refuse("write to a read-only disk");
        if (!this.inRange(sector, length))
          return this.refuse(`write of ${length} bytes at sector ${sector} past the disk`);
        await b.write(sector * SECTOR, chain.read(mem, HEADER, length));
        return { status: VIRTIO_BLK_S_OK, written: 0 };
      }
      case VIRTIO_BLK_T_FLUSH:
        await b.flush();
        return { status: VIRTIO_BLK_S_OK, written: 0 };
      case VIRTIO_BLK_T_GET_ID: {
        const id = new Uint8Array(ID_BYTES);
        id.set(this.serial);
        return {
          status: VIRTIO_BLK_S_OK,
          written: chain.write(mem, 0, id.subarray(0, Math.min(ID_BYTES, chain.writableLength - 1))),
        };
      }
      case VIRTIO_BLK_T_DISCARD:
      case VIRTIO_BLK_T_WRITE_ZEROES:
        return this.discardOrZero(ctx, chain, type);
      default:
        return this.refuse(`unsupported virtio-blk request type ${type}`, VIRTIO_BLK_S_UNSUPP);
    }
  }

  private async discardOrZero(
    ctx: VirtioDeviceContext,
    chain: DescriptorChain,
    type: number,
  ): Promise<{ status: number; written: number }> {
    const b = this.backend;
    const discard = type === VIRTIO_BLK_T_DISCARD;
    const op = discard ? b.discard?.bind(b) : undefined;
    const zero = discard ? undefined : b.writeZeroes?.bind(b);
    if (b.readOnly || (!op && !zero))
      return this.refuse(`request type ${type} not offered`, VIRTIO_BLK_S_UNSUPP);
    const length = chain.readableLength - HEADER;
    if (length === 0 || length % SEGMENT !== 0 || length / SEGMENT > MAX_SEGMENTS) {
      return this.refuse(`bad ${discard ? "discard" : "write-zeroes"} segment list of ${length} bytes`);
    }
    const segs = chain.read(ctx.memory, HEADER, length);
    const dv = new DataView(segs.buffer);
    for (let off = 0; off < length; off += SEGMENT) {
      const sector = Number(dv.getBigUint64(off, true));
      const count = dv.getUint32(off + 8, true);
      const flags = dv.getUint32(off + 12, true);
      if ((discard && flags !== 0) || flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) {
        return this.refuse(`segment flags 0x${flags.toString(16)} not supported`, VIRTIO_BLK_S_UNSUPP);
      }
      if (count > MAX_DISCARD_SECTORS || !this.inRange(sector, count * SECTOR)) {
        return this.refuse(`segment of ${count} sectors at ${sector} past the disk`);
      }
      if (op) await op(sector * SECTOR, count * SECTOR);
      else
        await zero?.(sector * SECTOR, count * SECTOR, {
          mayUnmap: (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) !== 0,
        });
    }
    return { status: VIRTIO_BLK_S_OK, written: 0 };
  }
}
