/**
 * virtio-net device logic (virtio 1.2, 5.1): receiveq (0) and transmitq (1),
 * the 12-byte `virtio_net_hdr` of VERSION_1 devices (5.1.6), and a MAC address
 * in config space (VIRTIO_NET_F_MAC) with link status (VIRTIO_NET_F_STATUS).
 *
 * Transmit strips the header and hands the frame to the `NetBackend`. Frames
 * from the backend wait in a bounded queue until the driver supplies receive
 * buffers; when the queue is full the oldest frame is dropped and counted, as
 * a NIC drops on overrun. A receive buffer too small for a frame drops it.
 * Deviation: no checksum or segmentation offload, no mergeable receive
 * buffers, no control queue or multiqueue.
 */
import type { NarrowWidth, NetBackend } from "@backplane/core";
import { InvalidArgumentError, writeU16LE } from "@backplane/core";
import { readConfigBytes, type VirtioDevice, type VirtioDeviceContext } from "@backplane/virtio";

export const VIRTIO_ID_NET = 1;
/** Feature bits (5.1.3). */
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_STATUS = 16;
/** Config `status` bit: link up. */
export const VIRTIO_NET_S_LINK_UP = 1;
/** Size of `struct virtio_net_hdr` for VERSION_1 devices (5.1.6). */
export const VIRTIO_NET_HDR_SIZE = 12;
const RECEIVEQ = 0;
const TRANSMITQ = 1;
const QUEUE_SIZE = 256;
/** Largest Ethernet frame accepted without offloads: 1514 bytes plus a VLAN tag. */
const MAX_FRAME = 1518;

export interface VirtioNetHooks {
  /** A frame was dropped: no receive buffer, backlog full, buffer too small, or a bad transmit. */
  onDrop?(reason: "backlog" | "buffer-too-small" | "bad-tx"): void;
}

export interface VirtioNetOptions {
  backend: NetBackend;
  /** MAC address as six bytes or "52:54:00:12:34:56". */
  mac: Uint8Array | string;
  /** Frames kept while the guest has no receive buffers (default 256). */
  backlog?: number;
  hooks?: VirtioNetHooks;
}

/** Parses "aa:bb:cc:dd:ee:ff" into six bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new InvalidArgumentError(`bad MAC address '${text}' (want six hex bytes like 52:54:00:12:34:56)`);
  }
  return Uint8Array.from(parts, (p) => Number.parseInt(p, 16));
}

const bit = (n: number): bigint => 1n << BigInt(n);

export class VirtioNet implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_NET;
  readonly features = bit(VIRTIO_NET_F_MAC) | bit(VIRTIO_NET_F_STATUS);
  readonly queueMaxSizes = [QUEUE_SIZE, QUEUE_SIZE];
  readonly configSize = 8;
  readonly mac: Uint8Array;
  private readonly config = new Uint8Array(8);
  private readonly backend: NetBackend;
  private readonly backlogLimit: number;
  private readonly hooks: VirtioNetHooks;
  private readonly backlog: Uint8Array[] = [];
  private context: VirtioDeviceContext | undefined;

  constructor(options: VirtioNetOptions) {
    this.mac = typeof options.mac === "string" ? parseMac(options.mac) : options.mac.slice();
    if (this.mac.length !== 6) throw new InvalidArgumentError("a MAC address has six bytes");
    this.config.set(this.mac, 0);
    writeU16LE(this.config, 6, VIRTIO_NET_S_LINK_UP);
    this.backend = options.backend;
    this.backlogLimit = options.backlog ?? 256;
    this.hooks = options.hooks ?? {};
    this.backend.onReceive((frame) => this.receive(frame));
  }

  readConfig(offset: number, width: NarrowWidth): number {
    return readConfigBytes(this.config, offset, width);
  }

  writeConfig(): void {
    // The MAC is writable only with VIRTIO_NET_F_CTRL_MAC_ADDR-less legacy drivers; not offered.
  }

  activate(context: VirtioDeviceContext): void {
    this.context = context;
    this.deliver();
  }

  reset(): void {
    this.context = undefined;
    this.backlog.length = 0;
  }

  queueNotify(index: number): void {
    if (index === RECEIVEQ) this.deliver();
    else if (index === TRANSMITQ) this.transmit();
  }

  private transmit(): void {
    const ctx = this.context;
    if (!ctx) return;
    for (let chain = ctx.pop(TRANSMITQ); chain; chain = ctx.pop(TRANSMITQ)) {
      const length = chain.readableLength - VIRTIO_NET_HDR_SIZE;
      if (length <= 0 || length > MAX_FRAME) this.hooks.onDrop?.("bad-tx");
      else this.backend.send(chain.read(ctx.memory, VIRTIO_NET_HDR_SIZE, length));
      ctx.complete(TRANSMITQ, chain, 0);
    }
  }

  private receive(frame: Uint8Array): void {
    if (!this.context) return; // no driver: the frame is lost, as on a NIC that is down
    if (this.backlog.length >= this.backlogLimit) {
      this.backlog.shift();
      this.hooks.onDrop?.("backlog");
    }
    this.backlog.push(frame);
    this.deliver();
  }

  private deliver(): void {
    const ctx = this.context;
    if (!ctx) return;
    while (this.backlog.length > 0) {
      const chain = ctx.pop(RECEIVEQ);
      if (!chain) return;
      const frame = this.backlog.shift() as Uint8Array;
      if (chain.writableLength < VIRTIO_NET_HDR_SIZE + frame.length) {
        this.hooks.onDrop?.("buffer-too-small");
        ctx.complete(RECEIVEQ, chain, 0);
        continue;
      }
      const header = new Uint8Array(VIRTIO_NET_HDR_SIZE);
      writeU16LE(header, 10, 1); // num_buffers
      chain.write(ctx.memory, 0, header);
      chain.write(ctx.memory, VIRTIO_NET_HDR_SIZE, frame);
      ctx.complete(RECEIVEQ, chain, VIRTIO_NET_HDR_SIZE + frame.length);
    }
  }
}
