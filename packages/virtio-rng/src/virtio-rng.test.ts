import { FakeGuestRam, IrqRecorder } from "@backplane/testing";
import { VirtioMmioTransport } from "@backplane/virtio";
import { MockVirtioDriver } from "@backplane/virtio/testing";
import { describe, expect, it } from "vitest";
import { VirtioRng } from "./virtio-rng.js";

function setup(rng: VirtioRng) {
  const ram = new FakeGuestRam(1 << 20, 0x8000_0000);
  const irq = new IrqRecorder();
  const transport = new VirtioMmioTransport({ device: rng, memory: ram, irq });
  const driver = new MockVirtioDriver(transport, ram, { heapBase: 0x8000_1000, heapSize: 0xf0000 });
  driver.init();
  return { driver, irq, transport };
}

describe("virtio-rng (virtio 1.2, 5.4)", () => {
  it("identifies as device 4 and fills the buffer from the injected source", () => {
    let n = 0;
    const { driver, irq, transport } = setup(new VirtioRng({ entropy: (b) => b.set(b.map(() => n++)) }));
    expect(transport.read(0x008, 4)).toBe(4);
    const { head, inAddrs } = driver.submit(0, [], [16, 8]);
    expect(driver.takeUsed(0)).toEqual([{ id: head, len: 24 }]);
    expect([...driver.read(inAddrs[0], 16), ...driver.read(inAddrs[1], 8)]).toEqual(
      Array.from({ length: 24 }, (_, i) => i),
    );
    expect(irq.level).toBe(true);
  });

  it("caps a request and uses the host's generator by default", () => {
    const { driver } = setup(new VirtioRng({ maxBytesPerRequest: 100 }));
    const { inAddrs } = driver.submit(0, [], [4096]);
    expect(driver.takeUsed(0)[0].len).toBe(100);
    const got = driver.read(inAddrs[0], 100);
    expect(new Set(got).size).toBeGreaterThan(30); // 100 random bytes: duplicates only by chance
    expect(driver.read(inAddrs[0] + 100, 16).every((b) => b === 0)).toBe(true);
  });
});
