import { InvalidArgumentError, UnsupportedError } from "@backplane/core";
import { fuzzMmio, IrqRecorder, ManualClock } from "@backplane/testing";
import { describe, expect, it } from "vitest";
import { Aclint, MSIP_BASE, MTIME, MTIMECMP_BASE } from "./index.js";

function make(harts = 2, startNs = 0) {
  const clock = new ManualClock(startNs);
  const lines = Array.from({ length: harts }, () => ({ msip: new IrqRecorder(), mtip: new IrqRecorder() }));
  let errors = 0;
  const dev = new Aclint({ timers: clock, harts: lines, events: { onGuestError: () => errors++ } });
  return { clock, lines, dev, errors: () => errors };
}

describe("Aclint MSWI", () => {
  it("drives each hart's MSIP from bit 0 of its register", () => {
    const { dev, lines } = make();
    dev.write(MSIP_BASE + 4, 4, 0xffff_ffff);
    expect(lines[1].msip.level).toBe(true);
    expect(lines[0].msip.level).toBe(false);
    expect(dev.read(MSIP_BASE + 4, 4)).toBe(1);
    dev.write(MSIP_BASE + 4, 4, 2);
    expect(lines[1].msip.level).toBe(false);
    expect(dev.read(MSIP_BASE + 4, 4)).toBe(0);
  });
});

describe("Aclint MTIMER", () => {
  it("counts MTIME at 10 MHz from the clock, readable in halves and whole", () => {
    const { dev, clock } = make();
    clock.set(0x1_0000_0000 * 100 + 4_250);
    expect(dev.read(MTIME, 4)).toBe(42);
    expect(dev.read(MTIME + 4, 4)).toBe(1);
    expect(dev.read64(MTIME)).toBe(0x1_0000_002an);
    expect(dev.mtime()).toBe(0x1_0000_002an);
  });

  it("keeps counting from a value the guest writes to MTIME", () => {
    const { dev, clock } = make();
    clock.set(5_000);
    dev.write64(MTIME, 1_000_000n);
    clock.advance(1_000);
    expect(dev.mtime()).toBe(1_000_010n);
    dev.write(MTIME + 4, 4, 2);
    expect(dev.mtime()).toBe((2n << 32n) + 1_000_010n);
  });

  it("resets MTIMECMP to 0 as QEMU does, so MTIP is pending until programmed", () => {
    const { dev, lines } = make();
    expect(dev.read64(MTIMECMP_BASE)).toBe(0n);
    expect(lines.map((l) => l.mtip.level)).toEqual([true, true]);
  });

  it("raises MTIP exactly when MTIME reaches MTIMECMP, per hart", () => {
    const { dev, clock, lines } = make();
    clock.set(1_000); // MTIME = 10
    dev.write64(MTIMECMP_BASE, 0xffff_ffff_ffff_ffffn);
    dev.write(MTIMECMP_BASE + 12, 4, 0xffff_ffff); // high half first, so no early match
    dev.write(MTIMECMP_BASE + 8, 4, 20);
    dev.write(MTIMECMP_BASE + 12, 4, 0);
    expect(lines.map((l) => l.mtip.level)).toEqual([false, false]);
    clock.set(1_999); // MTIME = 19
    expect(lines[1].mtip.level).toBe(false);
    clock.set(2_000); // MTIME = 20
    expect(lines.map((l) => l.mtip.level)).toEqual([false, true]);
    dev.write64(MTIMECMP_BASE + 8, 100n);
    expect(lines[1].mtip.level).toBe(false);
  });

  it("raises MTIP at once for a compare value already passed", () => {
    const { dev, clock, lines } = make();
    clock.set(10_000);
    dev.write64(MTIMECMP_BASE, 5n);
    expect(lines[0].mtip.level).toBe(true);
  });

  it("re-evaluates MTIP when MTIME is written", () => {
    const { dev, lines } = make();
    dev.write64(MTIMECMP_BASE, 500n);
    dev.write64(MTIME, 600n);
    expect(lines[0].mtip.level).toBe(true);
    dev.write64(MTIME, 0n);
    expect(lines[0].mtip.level).toBe(false);
  });

  it("re-arms after the timer is moved, without stale timers firing", () => {
    const { dev, clock, lines } = make();
    dev.write64(MTIMECMP_BASE, 10n);
    dev.write64(MTIMECMP_BASE, 30n);
    lines[0].mtip.clear();
    clock.set(1_500);
    expect(lines[0].mtip.level).toBe(false);
    clock.set(3_000);
    expect(lines[0].mtip.level).toBe(true);
    expect(lines[0].mtip.risingEdges).toBe(1);
  });

  it("gives the clock time at which MTIME reaches a value", () => {
    const { dev, clock } = make();
    clock.set(250);
    dev.write64(MTIME, 100n); // offset: MTIME 100 at tick 2
    expect(dev.deadlineFor(150n)).toBe((150 - 100 + 2) * 100);
    expect(dev.deadlineFor(50n)).toBe(250);
    expect(dev.deadlineFor(0xffff_ffff_ffff_ffffn)).toBeUndefined();
  });
});

describe("Aclint guest errors", () => {
  it("reads holes and misaligned offsets as zero, ignores writes, counts them", () => {
    const { dev, lines, errors } = make();
    expect(dev.read(MSIP_BASE + 8, 4)).toBe(0); // hart 2 does not exist
    dev.write(MSIP_BASE + 2, 4, 1);
    dev.write(0x7000, 4, 1);
    expect(dev.read64(MTIMECMP_BASE + 4)).toBe(0n);
    dev.write(0, 1, 1);
    expect(lines.some((l) => l.msip.level)).toBe(false);
    expect(errors()).toBe(5);
  });

  it("rejects a bad hart count from the host", () => {
    expect(() => new Aclint({ timers: new ManualClock(), harts: [] })).toThrow(InvalidArgumentError);
  });
});

describe("Aclint snapshot", () => {
  it("restores MSIP, compares and MTIME into a fresh device on a different clock", () => {
    const a = make();
    a.clock.set(10_000); // MTIME 100
    a.dev.write(MSIP_BASE, 4, 1);
    a.dev.write64(MTIMECMP_BASE + 8, 150n);
    const state = structuredClone(a.dev.saveState());

    const b = make(2, 70_000); // the new clock reads MTIME 700 before the load
    b.dev.loadState(state);
    expect(b.dev.mtime()).toBe(100n);
    expect(b.lines[0].msip.level).toBe(true);
    expect(b.lines[1].mtip.level).toBe(false);
    b.clock.advance(4_999);
    expect(b.lines[1].mtip.level).toBe(false);
    b.clock.advance(1);
    expect(b.lines[1].mtip.level).toBe(true);
    expect(() => b.dev.loadState({ ...state, version: 2 } as never)).toThrow(UnsupportedError);
    expect(() => make(1).dev.loadState(state)).toThrow(InvalidArgumentError);
  });
});

describe("Aclint under a misbehaving guest", () => {
  it("survives random accesses, counting the invalid ones, and still keeps time", () => {
    const { dev, clock, lines, errors } = make();
    fuzzMmio(dev, { accesses: 20_000 });
    clock.advance(1e9);
    expect(errors()).toBeGreaterThan(0);
    dev.write64(MTIME, 0n);
    dev.write64(MTIMECMP_BASE, 5n);
    expect(lines[0].mtip.level).toBe(false);
    clock.advance(500);
    expect(lines[0].mtip.level).toBe(true);
  });
});
