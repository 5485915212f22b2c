import { FakeGuestRam, IrqRecorder, MemoryCharBackend } from "@backplane/testing";
import { VirtioMmioTransport } from "@backplane/virtio";
import { MockVirtioDriver } from "@backplane/virtio/testing";
import { describe, expect, it } from "vitest";
import { VirtioConsole } from "./virtio-console.js";

function setup() {
  const ram = new FakeGuestRam(1 << 20, 0x8000_0000);
  const backend = new MemoryCharBackend();
  const transport = new VirtioMmioTransport({
    device: new VirtioConsole({ backend }),
    memory: ram,
    irq: new IrqRecorder(),
  });
  const driver = new MockVirtioDriver(transport, ram, { heapBase: 0x8000_1000, heapSize: 0xf0000 });
  driver.init();
  return { backend, driver, transport };
}

describe("virtio-console (virtio 1.2, 5.3)", () => {
  it("is device 3 and sends transmitq bytes to the backend", () => {
    const { backend, driver, transport } = setup();
    expect(transport.read(0x008, 4)).toBe(3);
    driver.submit(1, [new TextEncoder().encode("hello "), new TextEncoder().encode("world")], []);
    expect(driver.takeUsed(1)).toHaveLength(1);
    expect(backend.outputText).toBe("hello world");
  });

  it("takes input only once a buffer is posted and splits it across buffers", () => {
    const { backend, driver } = setup();
    backend.push("abcdef");
    expect(backend.pendingInput).toBe(6); // no buffer posted yet: nothing taken
    const first = driver.submit(0, [], [4]);
    expect(driver.takeUsed(0)).toEqual([{ id: first.head, len: 4 }]);
    expect(new TextDecoder().decode(driver.read(first.inAddrs[0], 4))).toBe("abcd");
    const second = driver.submit(0, [], [4]);
    expect(driver.takeUsed(0)).toEqual([{ id: second.head, len: 2 }]);
    expect(new TextDecoder().decode(driver.read(second.inAddrs[0], 2))).toBe("ef");
  });

  it("keeps an empty posted buffer until input arrives", () => {
    const { backend, driver } = setup();
    const rx = driver.submit(0, [], [16]);
    expect(driver.takeUsed(0)).toEqual([]);
    backend.push("x");
    expect(driver.takeUsed(0)).toEqual([{ id: rx.head, len: 1 }]);
  });
});
