/**
 * The contract between the virtio-mmio transport and device logic (virtio-blk,
 * virtio-net, ...). A device knows its ID, features, queues and config space;
 * the transport owns registers, status, feature negotiation and queue setup,
 * and hands the device a context on DRIVER_OK.
 */
import type { GuestMemory, NarrowWidth } from "@backplane/core";
import type { DescriptorChain, SplitVirtqueue } from "./virtqueue.js";

/** What an activated device may do; valid until the driver resets the device. */
export interface VirtioDeviceContext {
  readonly memory: GuestMemory;
  /** The feature bits the driver accepted. */
  readonly features: bigint;
  /** False once the device was reset: late completions are then dropped. */
  readonly active: boolean;
  queue(index: number): SplitVirtqueue;
  /** Takes the next available chain; a malformed one puts the device into DEVICE_NEEDS_RESET and gives undefined. */
  pop(queue: number): DescriptorChain | undefined;
  /** Returns a chain with `written` bytes written and interrupts the driver if it asked to be. */
  complete(queue: number, chain: DescriptorChain, written: number): void;
  /** Signals a configuration change (bumps ConfigGeneration, raises the config interrupt). */
  configChanged(): void;
  /** Reports an unrecoverable device error: sets DEVICE_NEEDS_RESET. */
  fail(reason: string): void;
}

/** Device logic plugged into a virtio transport. */
export interface VirtioDevice {
  /** Device ID (virtio 1.2, 5): 1 net, 2 block, 3 console, 4 entropy, ... */
  readonly deviceId: number;
  /** Device-specific feature bits offered (transport bits are added by the transport). */
  readonly features: bigint;
  /** Maximum size of each virtqueue; the length is the number of queues. */
  readonly queueMaxSizes: readonly number[];
  /** Bytes of device configuration space. */
  readonly configSize: number;
  readConfig(offset: number, width: NarrowWidth): number;
  writeConfig(offset: number, width: NarrowWidth, value: number): void;
  /** Called when the driver sets DRIVER_OK. */
  activate(context: VirtioDeviceContext): void;
  /** The driver notified queue `index` (only after activation). */
  queueNotify(index: number): void;
  /** The driver reset the device: drop all in-flight state. */
  reset(): void;
}

/** Reads `width` bytes little-endian from a config-space byte array (out of range reads as zero). */
export function readConfigBytes(bytes: Uint8Array, offset: number, width: NarrowWidth): number {
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + (bytes[offset + i] ?? 0);
  return v;
}
