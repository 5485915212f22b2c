import { GuestMemoryFault, InvalidArgumentError, ReadOnlyError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import {
  createNetLink,
  FakeGuestRam,
  IrqRecorder,
  ManualClock,
  MemoryBlockBackend,
  MemoryCharBackend,
} from "./index.js";

describe("IrqRecorder", () => {
  it("records level changes and rising edges, not repeated levels", () => {
    const irq = new IrqRecorder();
    irq.setLevel(true);
    irq.setLevel(true);
    irq.setLevel(false);
    irq.setLevel(true);
    expect(irq.level).toBe(true);
    expect(irq.history).toEqual([true, false, true]);
    expect(irq.risingEdges).toBe(2);
    expect(irq.calls).toBe(4);
    irq.clear();
    expect(irq.history).toEqual([]);
    expect(irq.risingEdges).toBe(0);
    expect(irq.level).toBe(true);
  });
});

describe("ManualClock", () => {
  it("fires due timers in deadline order, with now() at each deadline", () => {
    const clock = new ManualClock(100);
    const log: string[] = [];
    clock.at(300, () => log.push(`c@${clock.now()}`));
    clock.at(200, () => log.push(`a@${clock.now()}`));
    clock.at(200, () => log.push(`b@${clock.now()}`));
    clock.at(400, () => log.push("late"));
    clock.advance(250);
    expect(log).toEqual(["a@200", "b@200", "c@300"]);
    expect(clock.now()).toBe(350);
    expect(clock.pendingCount).toBe(1);
    expect(clock.nextDeadline()).toBe(400);
  });

  it("fires timers armed from callbacks within the same walk", () => {
    const clock = new ManualClock();
    const log: number[] = [];
    const tick = () => {
      log.push(clock.now());
      if (clock.now() < 30) clock.at(clock.now() + 10, tick);
    };
    clock.at(10, tick);
    clock.set(25);
    expect(log).toEqual([10, 20]);
    clock.set(100);
    expect(log).toEqual([10, 20, 30]);
  });

  it("does not fire cancelled timers, and fires past deadlines on the next dispatch only", () => {
    const clock = new ManualClock(50);
    let fired = 0;
    clock.at(60, () => fired++).cancel();
    const past = clock.at(10, () => fired++);
    expect(fired).toBe(0);
    clock.runDue();
    expect(fired).toBe(1);
    expect(clock.now()).toBe(50);
    past.cancel();
    clock.advance(100);
    expect(fired).toBe(1);
  });

  it("refuses to go backwards", () => {
    const clock = new ManualClock(10);
    expect(() => clock.set(5)).toThrow(InvalidArgumentError);
    expect(() => clock.advance(-1)).toThrow(InvalidArgumentError);
  });
});

describe("MemoryCharBackend", () => {
  it("captures output as bytes and text", () => {
    const char = new MemoryCharBackend();
    char.write(Uint8Array.of(0x68, 0x69));
    char.write(Uint8Array.of(0xe9));
    expect(char.output).toEqual(Uint8Array.of(0x68, 0x69, 0xe9));
    expect(char.outputText).toBe("hi\u00e9");
    expect(char.takeOutput()).toEqual(Uint8Array.of(0x68, 0x69, 0xe9));
    expect(char.outputText).toBe("");
  });

  it("keeps input queued until read, notifying listeners on push", () => {
    const char = new MemoryCharBackend();
    let notified = 0;
    const off = char.onReadable(() => notified++);
    char.push("abc");
    expect(notified).toBe(1);
    const buf = new Uint8Array(2);
    expect(char.read(buf)).toBe(2);
    expect([...buf]).toEqual([0x61, 0x62]);
    expect(char.pendingInput).toBe(1);
    expect(char.read(buf)).toBe(1);
    expect(buf[0]).toBe(0x63);
    expect(char.read(buf)).toBe(0);
    off();
    char.push("d");
    expect(notified).toBe(1);
    expect(char.pendingInput).toBe(1);
  });

  it("rejects characters that do not fit a byte", () => {
    expect(() => new MemoryCharBackend().push("\u20ac")).toThrow(InvalidArgumentError);
  });
});

describe("MemoryBlockBackend", () => {
  it("reads and writes asynchronously within bounds", async () => {
    const disk = new MemoryBlockBackend(1024);
    let done = false;
    const p = disk.write(510, Uint8Array.of(1, 2, 3, 4)).then(() => {
      done = true;
    });
    expect(done).toBe(false);
    await p;
    const dest = new Uint8Array(4);
    await disk.read(510, dest);
    expect([...dest]).toEqual([1, 2, 3, 4]);
    await expect(disk.read(1022, new Uint8Array(4))).rejects.toThrow(InvalidArgumentError);
    await expect(disk.write(-1, new Uint8Array(1))).rejects.toThrow(InvalidArgumentError);
  });

  it("zeroes ranges on discard and writeZeroes", async () => {
    const disk = new MemoryBlockBackend(new Uint8Array(16).fill(0xff));
    await disk.discard(0, 4);
    await disk.writeZeroes(12, 4, { mayUnmap: true });
    expect([...disk.data]).toEqual([0, 0, 0, 0, ...Array(8).fill(0xff), 0, 0, 0, 0]);
  });

  it("refuses writes when read-only or closed", async () => {
    const ro = new MemoryBlockBackend(new Uint8Array(8).fill(7), { readOnly: true });
    await expect(ro.write(0, Uint8Array.of(1))).rejects.toThrow(ReadOnlyError);
    await expect(ro.writeZeroes(0, 1)).rejects.toThrow(ReadOnlyError);
    expect(ro.data[0]).toBe(7);
    const rw = new MemoryBlockBackend(8);
    await rw.flush();
    expect(rw.flushCount).toBe(1);
    await rw.close();
    await expect(rw.write(0, Uint8Array.of(1))).rejects.toThrow(ReadOnlyError);
  });
});

describe("createNetLink", () => {
  it("delivers copies to the other end and drops frames with no receiver", () => {
    const [a, b] = createNetLink();
    const got: Uint8Array[] = [];
    a.send(Uint8Array.of(1));
    expect(a.dropped).toBe(1);
    const off = b.onReceive((f) => got.push(f));
    const frame = Uint8Array.of(9, 8, 7);
    a.send(frame);
    frame[0] = 0;
    expect(got).toEqual([Uint8Array.of(9, 8, 7)]);
    expect(a.sent).toEqual([Uint8Array.of(1), Uint8Array.of(9, 8, 7)]);
    b.send(Uint8Array.of(5));
    expect(b.dropped).toBe(1);
    off();
    a.send(Uint8Array.of(2));
    expect(got.length).toBe(1);
    expect(a.dropped).toBe(2);
  });
});

describe("FakeGuestRam", () => {
  it("reads and writes little-endian values at its base address", () => {
    const ram = new FakeGuestRam(16, 0x8000_0000);
    ram.writeU32(0x8000_0000, 0x11223344);
    expect([...ram.bytes.subarray(0, 4)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    ram.writeU64(0x8000_0008, 0x0102030405060708n);
    expect(ram.readU64(0x8000_0008)).toBe(0x0102030405060708n);
    expect(ram.readU16(0x8000_0008)).toBe(0x0708);
    ram.view(0x8000_0004, 2)[1] = 0xaa;
    expect(ram.readU8(0x8000_0005)).toBe(0xaa);
  });

  it("throws GuestMemoryFault for any byte outside RAM", () => {
    const ram = new FakeGuestRam(16, 0x1000);
    expect(ram.isValid(0x1000, 16)).toBe(true);
    expect(ram.isValid(0x100f, 2)).toBe(false);
    expect(() => ram.readU16(0x100f)).toThrow(GuestMemoryFault);
    expect(() => ram.readU8(0xfff)).toThrow(GuestMemoryFault);
    expect(() => ram.write(0x1008, new Uint8Array(9))).toThrow(GuestMemoryFault);
    let fault: unknown;
    try {
      ram.read(0x1010, new Uint8Array(1));
    } catch (e) {
      fault = e;
    }
    expect(fault).toBeInstanceOf(GuestMemoryFault);
    expect((fault as GuestMemoryFault).address).toBe(0x1010);
  });
});
