import { createNetLink, FakeGuestRam, IrqRecorder } from "@backplane/testing";
import { Config, VirtioMmioTransport } from "@backplane/virtio";
import { MockVirtioDriver } from "@backplane/virtio/testing";
import { VirtualSwitch } from "@backplane/virtual-switch";
import { describe, expect, it } from "vitest";
import { parseMac, VIRTIO_NET_HDR_SIZE, VirtioNet } from "./virtio-net.js";

function nic(backend: ConstructorParameters<typeof VirtioNet>[0]["backend"], mac: string, backlog = 4) {
  const ram = new FakeGuestRam(1 << 20, 0x8000_0000);
  const drops: string[] = [];
  const net = new VirtioNet({ backend, mac, backlog, hooks: { onDrop: (r) => drops.push(r) } });
  const transport = new VirtioMmioTransport({ device: net, memory: ram, irq: new IrqRecorder() });
  const driver = new MockVirtioDriver(transport, ram, { heapBase: 0x8000_1000, heapSize: 0xf0000 });
  return { net, transport, driver, drops };
}

const ethernet = (dst: number[], src: Uint8Array, payload: number[]) =>
  Uint8Array.from([...dst, ...src, 0x88, 0xb5, ...payload]);
const header = new Uint8Array(VIRTIO_NET_HDR_SIZE);

describe("virtio-net (virtio 1.2, 5.1)", () => {
  it("reports its MAC and link up in config space", () => {
    const [end] = createNetLink();
    const { transport } = nic(end, "52:54:00:12:34:56");
    expect([0, 1, 2, 3, 4, 5].map((i) => transport.read(Config + i, 1))).toEqual([
      0x52, 0x54, 0, 0x12, 0x34, 0x56,
    ]);
    expect(transport.read(Config + 6, 2)).toBe(1);
    expect(() => parseMac("52:54:00:12:34")).toThrow(/bad MAC/);
  });

  it("transmits a frame without the virtio header", () => {
    const [end, far] = createNetLink();
    const got: Uint8Array[] = [];
    far.onReceive((f) => got.push(f));
    const { driver, net } = nic(end, "52:54:00:00:00:01");
    driver.init();
    const f = ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], net.mac, [1, 2, 3]);
    const { head } = driver.submit(1, [header, f], []);
    expect(driver.takeUsed(1)).toEqual([{ id: head, len: 0 }]);
    expect(got).toEqual([f]);
  });

  it("holds received frames until the driver posts buffers, then writes header and frame", () => {
    const [end, far] = createNetLink();
    const { driver, net } = nic(end, "52:54:00:00:00:01");
    driver.init();
    const f = ethernet([...net.mac], Uint8Array.of(2, 0, 0, 0, 0, 9), [7, 7]);
    far.send(f);
    const { head, inAddrs } = driver.submit(0, [], [1526]);
    expect(driver.takeUsed(0)).toEqual([{ id: head, len: VIRTIO_NET_HDR_SIZE + f.length }]);
    const bytes = driver.read(inAddrs[0], VIRTIO_NET_HDR_SIZE + f.length);
    expect(bytes[10]).toBe(1); // num_buffers
    expect(bytes.subarray(VIRTIO_NET_HDR_SIZE)).toEqual(f);
  });

  it("drops the oldest frame when the backlog is full and frames too big for the buffer", () => {
    const [end, far] = createNetLink();
    const { driver, drops } = nic(end, "52:54:00:00:00:01", 2);
    driver.init();
    for (const tag of [1, 2, 3])
      far.send(ethernet([0xff, 0, 0, 0, 0, 0], Uint8Array.of(2, 0, 0, 0, 0, 9), [tag]));
    expect(drops).toEqual(["backlog"]);
    const small = driver.submit(0, [], [8]);
    const ok = driver.submit(0, [], [64]);
    expect(drops).toEqual(["backlog", "buffer-too-small"]);
    expect(driver.takeUsed(0)).toEqual([
      { id: small.head, len: 0 },
      { id: ok.head, len: VIRTIO_NET_HDR_SIZE + 15 },
    ]);
    expect(driver.read(ok.inAddrs[0] + VIRTIO_NET_HDR_SIZE + 14, 1)[0]).toBe(3);
  });

  it("carries a frame between two NICs on a virtual switch", () => {
    const sw = new VirtualSwitch();
    const a = nic(sw.connect(), "52:54:00:00:00:0a");
    const b = nic(sw.connect(), "52:54:00:00:00:0b");
    a.driver.init();
    b.driver.init();
    const rx = b.driver.submit(0, [], [1526], { notify: true });
    const f = ethernet([...b.net.mac], a.net.mac, [0x42]);
    a.driver.submit(1, [header, f], []);
    expect(b.driver.takeUsed(0)).toEqual([{ id: rx.head, len: VIRTIO_NET_HDR_SIZE + f.length }]);
    expect(b.driver.read(rx.inAddrs[0] + VIRTIO_NET_HDR_SIZE, f.length)).toEqual(f);
  });
});
