import type { NarrowWidth } from "@backplane/core";
import { FakeGuestRam, IrqRecorder } from "@backplane/testing";
import { describe, expect, it } from "vitest";
import * as R from "./constants.js";
import type { VirtioDevice, VirtioDeviceContext } from "./device.js";
import { VirtioMmioTransport } from "./mmio-transport.js";
import { MockVirtioDriver } from "./testing/mock-driver.js";
import type { DescriptorChain } from "./virtqueue.js";

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 1 << 20;

/** A test device: answers each request with the request's bytes reversed; completes at once or on demand. */
class ReverseDevice implements VirtioDevice {
  readonly deviceId = 0x1234;
  readonly features = 1n << 3n;
  readonly queueMaxSizes = [8];
  readonly configSize = 8;
  readonly config = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  ctx: VirtioDeviceContext | undefined;
  deferred: { chain: DescriptorChain; ctx: VirtioDeviceContext }[] = [];
  defer = false;
  resets = 0;

  readConfig(offset: number, width: NarrowWidth): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + this.config[offset + i];
    return v;
  }
  writeConfig(offset: number, _w: NarrowWidth, value: number): void {
    this.config[offset] = value;
  }
  activate(ctx: VirtioDeviceContext): void {
    this.ctx = ctx;
  }
  queueNotify(index: number): void {
    const ctx = this.ctx;
    if (!ctx) return;
    for (let chain = ctx.pop(index); chain; chain = ctx.pop(index)) {
      if (this.defer) this.deferred.push({ chain, ctx });
      else this.finish(chain, ctx);
    }
  }
  finish(chain: DescriptorChain, ctx: VirtioDeviceContext): void {
    const data = chain.read(ctx.memory, 0, chain.readableLength).reverse();
    ctx.complete(0, chain, chain.write(ctx.memory, 0, data));
  }
  reset(): void {
    this.resets++;
    this.ctx = undefined;
  }
}

function setup() {
  const ram = new FakeGuestRam(RAM_SIZE, RAM_BASE);
  const irq = new IrqRecorder();
  const errors: string[] = [];
  const device = new ReverseDevice();
  const transport = new VirtioMmioTransport({
    device,
    memory: ram,
    irq,
    hooks: { onGuestError: (m) => errors.push(m) },
  });
  const driver = new MockVirtioDriver(transport, ram, {
    heapBase: RAM_BASE + 0x1000,
    heapSize: RAM_SIZE - 0x2000,
  });
  return { ram, irq, errors, device, transport, driver };
}

const bytes = (...b: number[]) => Uint8Array.from(b);

describe("virtio-mmio registers and initialization (4.2.2, 3.1.1)", () => {
  it("identifies itself and offers VERSION_1, INDIRECT_DESC, EVENT_IDX plus device features", () => {
    const { driver } = setup();
    expect(driver.reg(R.MagicValue)).toBe(0x74726976);
    expect(driver.reg(R.Version)).toBe(2);
    expect(driver.reg(R.DeviceID)).toBe(0x1234);
    const f = driver.deviceFeatures();
    expect(f).toBe((1n << 32n) | (1n << 28n) | (1n << 29n) | (1n << 3n));
  });

  it("reaches DRIVER_OK and reports the queue's maximum size", () => {
    const { driver, device } = setup();
    const status = driver.init();
    expect(status).toBe(R.STATUS_ACKNOWLEDGE | R.STATUS_DRIVER | R.STATUS_FEATURES_OK | R.STATUS_DRIVER_OK);
    driver.setReg(R.QueueSel, 0);
    expect(driver.reg(R.QueueNumMax)).toBe(8);
    expect(driver.reg(R.QueueReady)).toBe(1);
    expect(device.ctx?.features).toBe(driver.features);
  });

  it("refuses FEATURES_OK without VERSION_1 or with features it did not offer", () => {
    const a = setup();
    expect(a.driver.init({ accept: 1n << 3n }) & R.STATUS_FEATURES_OK).toBe(0);
    const b = setup();
    b.driver.setReg(R.Status, R.STATUS_ACKNOWLEDGE | R.STATUS_DRIVER);
    b.driver.setFeatures((1n << 32n) | (1n << 5n));
    b.driver.setReg(R.Status, R.STATUS_ACKNOWLEDGE | R.STATUS_DRIVER | R.STATUS_FEATURES_OK);
    expect(b.driver.reg(R.Status) & R.STATUS_FEATURES_OK).toBe(0);
    expect(b.errors.join()).toMatch(/not offered/);
  });

  it("serves config space at 0x100 with any width", () => {
    const { transport } = setup();
    expect(transport.read(R.Config + 1, 1)).toBe(2);
    expect(transport.read(R.Config + 2, 2)).toBe(0x0403);
    expect(transport.read(R.Config + 4, 4)).toBe(0x08070605);
    expect(transport.read(R.Config + 8, 4)).toBe(0);
  });
});

describe("split virtqueue (2.7)", () => {
  it.each([false, true])(
    "completes a request through direct and indirect (%s) descriptors and interrupts",
    (indirect) => {
      const { driver, irq } = setup();
      driver.init();
      const { head, inAddrs } = driver.submit(0, [bytes(1, 2), bytes(3)], [2, 4], { indirect });
      expect(driver.takeUsed(0)).toEqual([{ id: head, len: 3 }]);
      expect(driver.read(inAddrs[0], 2)).toEqual(bytes(3, 2));
      expect(driver.read(inAddrs[1], 4)).toEqual(bytes(1, 0, 0, 0));
      expect(irq.level).toBe(true);
      expect(driver.ackInterrupt()).toBe(R.VIRTIO_MMIO_INT_VRING);
      expect(irq.level).toBe(false);
    },
  );

  it("suppresses interrupts with NO_INTERRUPT when EVENT_IDX is off", () => {
    const { driver, irq } = setup();
    driver.init({ accept: (1n << 32n) | (1n << 28n) });
    driver.suppressInterrupts(0, { noInterrupt: true });
    driver.submit(0, [bytes(1)], [1]);
    expect(driver.takeUsed(0)).toHaveLength(1);
    expect(irq.level).toBe(false);
  });

  it("interrupts only when used_event is crossed with EVENT_IDX (2.7.10)", () => {
    const { driver, irq } = setup();
    driver.init();
    driver.suppressInterrupts(0, { usedEvent: 2 }); // interrupt when the used index passes 2
    driver.submit(0, [bytes(1)], [1]);
    driver.submit(0, [bytes(2)], [1]);
    expect(irq.level).toBe(false);
    driver.submit(0, [bytes(3)], [1]);
    expect(irq.level).toBe(true);
    expect(driver.takeUsed(0)).toHaveLength(3);
  });
});

describe("guest mistakes end in a guest-visible error, never a host exception", () => {
  function expectNeedsReset(s: ReturnType<typeof setup>) {
    expect(s.driver.reg(R.Status) & R.STATUS_DEVICE_NEEDS_RESET).toBe(R.STATUS_DEVICE_NEEDS_RESET);
    expect(s.driver.ackInterrupt() & R.VIRTIO_MMIO_INT_CONFIG).toBe(R.VIRTIO_MMIO_INT_CONFIG);
    expect(s.driver.takeUsed(0)).toEqual([]);
  }

  it("a buffer outside guest RAM", () => {
    const s = setup();
    s.driver.init();
    s.driver.writeDescriptor(0, 0, { addr: RAM_BASE + RAM_SIZE - 4, len: 8, flags: 0, next: 0 });
    s.driver.publish(0, 0);
    const before = s.ram.bytes.slice();
    s.driver.notify(0);
    expectNeedsReset(s);
    expect(s.ram.bytes.subarray(0, 0x1000)).toEqual(before.subarray(0, 0x1000));
  });

  it("a descriptor loop", () => {
    const s = setup();
    s.driver.init();
    const buf = s.driver.alloc(4);
    s.driver.writeDescriptor(0, 0, { addr: buf, len: 4, flags: R.VIRTQ_DESC_F_NEXT, next: 1 });
    s.driver.writeDescriptor(0, 1, { addr: buf, len: 4, flags: R.VIRTQ_DESC_F_NEXT, next: 0 });
    s.driver.publish(0, 0);
    s.driver.notify(0);
    expectNeedsReset(s);
    expect(s.errors.join()).toMatch(/loops/);
  });

  it("a next index past the table, a readable after a writable buffer, and indirect without the feature", () => {
    const cases: ((s: ReturnType<typeof setup>, buf: number) => void)[] = [
      (s, buf) => s.driver.writeDescriptor(0, 0, { addr: buf, len: 4, flags: R.VIRTQ_DESC_F_NEXT, next: 99 }),
      (s, buf) => {
        s.driver.writeDescriptor(0, 0, {
          addr: buf,
          len: 4,
          flags: R.VIRTQ_DESC_F_WRITE | R.VIRTQ_DESC_F_NEXT,
          next: 1,
        });
        s.driver.writeDescriptor(0, 1, { addr: buf, len: 4, flags: 0, next: 0 });
      },
      (s, buf) =>
        s.driver.writeDescriptor(0, 0, { addr: buf, len: 16, flags: R.VIRTQ_DESC_F_INDIRECT, next: 0 }),
    ];
    for (const build of cases) {
      const s = setup();
      s.driver.init({ accept: 1n << 32n });
      build(s, s.driver.alloc(16));
      s.driver.publish(0, 0);
      s.driver.notify(0);
      expectNeedsReset(s);
    }
  });

  it("a notify before DRIVER_OK is ignored", () => {
    const s = setup();
    s.driver.init({ driverOk: false });
    s.driver.submit(0, [bytes(1)], [1]);
    expect(s.driver.takeUsed(0)).toEqual([]);
    expect(s.errors.join()).toMatch(/before DRIVER_OK/);
  });

  it("rings outside guest RAM at QueueReady", () => {
    const s = setup();
    s.driver.setReg(R.Status, R.STATUS_ACKNOWLEDGE | R.STATUS_DRIVER);
    s.driver.setFeatures(1n << 32n);
    s.driver.setReg(R.Status, R.STATUS_ACKNOWLEDGE | R.STATUS_DRIVER | R.STATUS_FEATURES_OK);
    s.driver.setReg(R.QueueSel, 0);
    s.driver.setReg(R.QueueNum, 8);
    s.driver.setReg(R.QueueDescLow, 0x1000);
    s.driver.setReg(R.QueueReady, 1);
    expect(s.driver.reg(R.QueueReady)).toBe(0);
    expect(s.driver.reg(R.Status) & R.STATUS_DEVICE_NEEDS_RESET).toBeTruthy();
  });

  it("register accesses of the wrong width are ignored", () => {
    const s = setup();
    expect(s.transport.read(R.MagicValue, 1)).toBe(0);
    s.transport.write(R.Status, 2, 0xff);
    expect(s.driver.reg(R.Status)).toBe(0);
    expect(s.errors).toHaveLength(2);
  });
});

describe("reset and snapshots", () => {
  it("drops completions that arrive after the driver reset the device", () => {
    const s = setup();
    s.device.defer = true;
    s.driver.init();
    const { inAddrs } = s.driver.submit(0, [bytes(9)], [1]);
    const resets = s.device.resets;
    s.driver.setReg(R.Status, 0);
    expect(s.device.resets).toBe(resets + 1);
    const { chain, ctx } = s.device.deferred[0];
    s.device.finish(chain, ctx);
    expect(s.driver.read(inAddrs[0], 1)).toEqual(bytes(9)); // data written to its buffer is harmless ...
    expect(s.driver.takeUsed(0)).toEqual([]); // ... but the used ring is untouched
    expect(s.irq.level).toBe(false);
  });

  it("round-trips transport state into a fresh instance and keeps working", () => {
    const s = setup();
    s.driver.init();
    s.driver.submit(0, [bytes(1)], [1]);
    s.driver.takeUsed(0);
    s.driver.ackInterrupt();
    const state = structuredClone(s.transport.saveState());
    const device = new ReverseDevice();
    const fresh = new VirtioMmioTransport({ device, memory: s.ram, irq: new IrqRecorder() });
    fresh.loadState(state);
    expect(fresh.read(R.Status, 4)).toBe(s.driver.reg(R.Status));
    const driver = Object.assign(Object.create(Object.getPrototypeOf(s.driver)), s.driver, {
      transport: fresh,
    });
    const { head, inAddrs } = driver.submit(0, [bytes(4, 5)], [2]);
    expect(driver.takeUsed(0)).toEqual([{ id: head, len: 2 }]);
    expect(driver.read(inAddrs[0], 2)).toEqual(bytes(5, 4));
  });
});
