/**
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2 and 4.2.3): the
 * register window a guest driver programs, the device status state machine
 * (2.1, 3.1.1), feature negotiation with VERSION_1, INDIRECT_DESC and
 * EVENT_IDX (2.2, 6), queue setup and reset (4.2.3.2), interrupt status and
 * acknowledgement, and configuration generation (2.5).
 *
 * A driver that breaks the rules (bad queue addresses, a malformed chain, a
 * notify before DRIVER_OK, features the device did not offer) never causes a
 * host exception: the access is ignored, or the device enters
 * DEVICE_NEEDS_RESET with a config interrupt, and `onGuestError` is called.
 * Deviation: no shared memory regions (SHMLen reads as all ones, "absent");
 * no VIRTIO_F_NOTIFICATION_DATA, ring reset or packed rings.
 */
import type { GuestMemory, IrqLine, MmioDevice, NarrowWidth, Snapshotable } from "@backplane/core";
import { UnsupportedError } from "@backplane/core";
import * as R from "./constants.js";
import type { VirtioDevice, VirtioDeviceContext } from "./device.js";
import { type DescriptorChain, SplitVirtqueue, VirtqueueError, type VirtqueueState } from "./virtqueue.js";

/** Optional observers of the transport. */
export interface VirtioMmioHooks {
  /** The guest driver did something the specification forbids. */
  onGuestError?(message: string): void;
}

export interface VirtioMmioTransportOptions {
  device: VirtioDevice;
  memory: GuestMemory;
  irq: IrqLine;
  hooks?: VirtioMmioHooks;
}

/** Saved transport state (device logic saves its own). */
export interface VirtioMmioState {
  version: 1;
  status: number;
  deviceFeaturesSel: number;
  driverFeatures: bigint;
  driverFeaturesSel: number;
  queueSel: number;
  interruptStatus: number;
  configGeneration: number;
  queues: VirtqueueState[];
}

const TRANSPORT_FEATURES =
  (1n << BigInt(R.VIRTIO_F_VERSION_1)) |
  (1n << BigInt(R.VIRTIO_F_INDIRECT_DESC)) |
  (1n << BigInt(R.VIRTIO_F_EVENT_IDX));

const bit = (n: number): bigint => 1n << BigInt(n);

export class VirtioMmioTransport implements MmioDevice, Snapshotable<VirtioMmioState> {
  readonly size = R.MMIO_WINDOW_SIZE;
  readonly widths = [1, 2, 4] as const;
  readonly device: VirtioDevice;
  private readonly memory: GuestMemory;
  private readonly irq: IrqLine;
  private readonly hooks: VirtioMmioHooks;
  private readonly queues: SplitVirtqueue[];
  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeatures = 0n;
  private driverFeaturesSel = 0;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  private context: (VirtioDeviceContext & { active: boolean }) | undefined;

  constructor(options: VirtioMmioTransportOptions) {
    this.device = options.device;
    this.memory = options.memory;
    this.irq = options.irq;
    this.hooks = options.hooks ?? {};
    this.queues = options.device.queueMaxSizes.map((max) => new SplitVirtqueue(max));
  }

  /** All features the device offers: its own plus the transport's. */
  get offeredFeatures(): bigint {
    return this.device.features | TRANSPORT_FEATURES;
  }

  read(offset: number, width: NarrowWidth): number {
    if (offset >= R.Config) {
      const rel = offset - R.Config;
      return rel + width <= this.device.configSize ? this.device.readConfig(rel, width) : 0;
    }
    if (width !== 4 || offset % 4 !== 0) {
      this.guestError(`${width}-byte read of register 0x${offset.toString(16)}`);
      return 0;
    }
    const q = this.queues[this.queueSel];
    switch (offset) {
      case R.MagicValue:
        return R.MAGIC;
      case R.Version:
        return 2;
      case R.DeviceID:
        return this.device.deviceId;
      case R.VendorID:
        return R.VENDOR_ID;
      case R.DeviceFeatures:
        return this.deviceFeaturesSel > 1
          ? 0
          : Number((this.offeredFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn);
      case R.QueueNumMax:
        return q?.maxSize ?? 0;
      case R.QueueReady:
        return q?.ready ? 1 : 0;
      case R.InterruptStatus:
        return this.interruptStatus;
      case R.Status:
        return this.status;
      case R.ConfigGeneration:
        return this.configGeneration;
      case R.SHMLenLow:
      case R.SHMLenHigh:
      case R.SHMBaseLow:
      case R.SHMBaseHigh:
        return 0xffff_ffff;
      case R.QueueDescLow:
        return q ? q.descAddr >>> 0 : 0;
      case R.QueueDescHigh:
        return q ? Math.floor(q.descAddr / 2 ** 32) : 0;
      case R.QueueDriverLow:
        return q ? q.driverAddr >>> 0 : 0;
      case R.QueueDriverHigh:
        return q ? Math.floor(q.driverAddr / 2 ** 32) : 0;
      case R.QueueDeviceLow:
        return q ? q.deviceAddr >>> 0 : 0;
      case R.QueueDeviceHigh:
        return q ? Math.floor(q.deviceAddr / 2 ** 32) : 0;
      case R.QueueNum:
        return q?.size ?? 0;
      default:
        return 0;
    }
  }

  write(offset: number, width: NarrowWidth, value: number): void {
    if (offset >= R.Config) {
      const rel = offset - R.Config;
      if (rel + width <= this.device.configSize) this.device.writeConfig(rel, width, value);
      return;
    }
    if (width !== 4 || offset % 4 !== 0) {
      this.guestError(`${width}-byte write of register 0x${offset.toString(16)}`);
      return;
    }
    value >>>= 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case R.DeviceFeaturesSel:
        this.deviceFeaturesSel = value;
        return;
      case R.DriverFeaturesSel:
        this.driverFeaturesSel = value;
        return;
      case R.DriverFeatures:
        if (this.status & R.STATUS_FEATURES_OK) {
          this.guestError("DriverFeatures written after FEATURES_OK");
          return;
        }
        if (this.driverFeaturesSel <= 1) {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(value) << shift);
        }
        return;
      case R.QueueSel:
        this.queueSel = value;
        return;
      case R.QueueNotify: {
        this.notify(value & 0xffff);
        return;
      }
      case R.InterruptACK:
        this.interruptStatus &= ~value;
        this.updateIrq();
        return;
      case R.Status: {
        this.writeStatus(value & 0xff);
        return;
      }
    }
    if (!q) {
      this.guestError(
        `queue register 0x${offset.toString(16)} written with QueueSel ${this.queueSel} out of range`,
      );
      return;
    }
    if (offset === R.QueueReady) {
      this.setQueueReady(q, value & 1);
      return;
    }
    if (q.ready) {
      this.guestError(`queue ${this.queueSel} reconfigured while ready`);
      return;
    }
    const hi = value * 2 ** 32;
    switch (offset) {
      case R.QueueNum:
        q.size = value;
        return;
      case R.QueueDescLow:
        q.descAddr = Math.floor(q.descAddr / 2 ** 32) * 2 ** 32 + value;
        return;
      case R.QueueDescHigh:
        q.descAddr = hi + (q.descAddr % 2 ** 32);
        return;
      case R.QueueDriverLow:
        q.driverAddr = Math.floor(q.driverAddr / 2 ** 32) * 2 ** 32 + value;
        return;
      case R.QueueDriverHigh:
        q.driverAddr = hi + (q.driverAddr % 2 ** 32);
        return;
      case R.QueueDeviceLow:
        q.deviceAddr = Math.floor(q.deviceAddr / 2 ** 32) * 2 ** 32 + value;
        return;
      case R.QueueDeviceHigh:
        q.deviceAddr = hi + (q.deviceAddr % 2 ** 32);
        return;
    }
  }

  private setQueueReady(q: SplitVirtqueue, ready: number): void {
    if (!ready) {
      q.ready = false;
      return;
    }
    try {
      q.validate(this.memory);
      q.ready = true;
    } catch (e) {
      this.needsReset(e);
    }
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const added = value & ~this.status;
    if (added & R.STATUS_FEATURES_OK) {
      const unknown = this.driverFeatures & ~this.offeredFeatures;
      if (unknown !== 0n || !(this.driverFeatures & bit(R.VIRTIO_F_VERSION_1))) {
        this.guestError(
          unknown
            ? `driver accepted features not offered: 0x${unknown.toString(16)}`
            : "driver did not accept VIRTIO_F_VERSION_1",
        );
        value &= ~R.STATUS_FEATURES_OK; // the driver re-reads status and sees the refusal (3.1.1 step 6)
      }
    }
    this.status = (this.status & R.STATUS_DEVICE_NEEDS_RESET) | value;
    if (added & R.STATUS_DRIVER_OK && this.status & R.STATUS_FEATURES_OK) this.activate();
  }

  private activate(): void {
    const eventIdx = (this.driverFeatures & bit(R.VIRTIO_F_EVENT_IDX)) !== 0n;
    const indirect = (this.driverFeatures & bit(R.VIRTIO_F_INDIRECT_DESC)) !== 0n;
    for (const q of this.queues) {
      q.eventIdx = eventIdx;
      q.indirect = indirect;
    }
    const transport = this;
    const context = {
      memory: this.memory,
      features: this.driverFeatures,
      active: true,
      queue: (i: number) => transport.queues[i],
      pop(i: number): DescriptorChain | undefined {
        if (!context.active || transport.status & R.STATUS_DEVICE_NEEDS_RESET) return undefined;
        try {
          return transport.queues[i]?.pop(transport.memory);
        } catch (e) {
          transport.needsReset(e);
          return undefined;
        }
      },
      complete(i: number, chain: DescriptorChain, written: number): void {
        const q = transport.queues[i];
        if (!context.active || !q) return;
        try {
          q.push(transport.memory, chain.head, written);
          if (q.shouldInterrupt(transport.memory)) transport.raise(R.VIRTIO_MMIO_INT_VRING);
        } catch (e) {
          transport.needsReset(e);
        }
      },
      configChanged(): void {
        if (!context.active) return;
        transport.configGeneration = (transport.configGeneration + 1) >>> 0;
        transport.raise(R.VIRTIO_MMIO_INT_CONFIG);
      },
      fail(reason: string): void {
        if (context.active) transport.needsReset(new VirtqueueError(reason));
      },
    };
    this.context = context;
    this.device.activate(context);
  }

  private notify(index: number): void {
    if (!(this.status & R.STATUS_DRIVER_OK) || !this.context) {
      this.guestError(`queue ${index} notified before DRIVER_OK`);
      return;
    }
    if (!this.queues[index]?.ready) {
      this.guestError(`notify of queue ${index}, which is not ready`);
      return;
    }
    this.device.queueNotify(index);
  }

  private reset(): void {
    if (this.context) this.context.active = false;
    this.context = undefined;
    this.device.reset();
    for (const q of this.queues) q.reset();
    this.status = 0;
    this.driverFeatures = 0n;
    this.deviceFeaturesSel = this.driverFeaturesSel = this.queueSel = 0;
    this.interruptStatus = 0;
    this.updateIrq();
  }

  private needsReset(e: unknown): void {
    this.guestError(e instanceof Error ? e.message : String(e));
    if (this.status & R.STATUS_DEVICE_NEEDS_RESET) return;
    this.status |= R.STATUS_DEVICE_NEEDS_RESET;
    if (this.status & R.STATUS_DRIVER_OK) this.raise(R.VIRTIO_MMIO_INT_CONFIG);
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.setLevel(this.interruptStatus !== 0);
  }

  private guestError(message: string): void {
    this.hooks.onGuestError?.(message);
  }

  saveState(): VirtioMmioState {
    return {
      version: 1,
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeatures: this.driverFeatures,
      driverFeaturesSel: this.driverFeaturesSel,
      queueSel: this.queueSel,
      interruptStatus: this.interruptStatus,
      configGeneration: this.configGeneration,
      queues: this.queues.map((q) => q.saveState()),
    };
  }

  /** Restores transport state; re-activates the device when the saved driver had set DRIVER_OK. */
  loadState(s: VirtioMmioState): void {
    if (s.version !== 1) throw new UnsupportedError(`virtio-mmio state version ${s.version}`);
    this.reset();
    this.deviceFeaturesSel = s.deviceFeaturesSel;
    this.driverFeatures = s.driverFeatures;
    this.driverFeaturesSel = s.driverFeaturesSel;
    this.queueSel = s.queueSel;
    this.configGeneration = s.configGeneration;
    s.queues.forEach((q, i) => {
      this.queues[i]?.loadState(q);
    });
    this.status = s.status;
    if (s.status & R.STATUS_DRIVER_OK) this.activate();
    this.interruptStatus = s.interruptStatus;
    this.updateIrq();
  }
}
