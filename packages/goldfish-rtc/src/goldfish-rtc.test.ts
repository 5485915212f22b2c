import { UnsupportedError } from "@backplane/core";
import { fuzzMmio, IrqRecorder, ManualClock } from "@backplane/testing";
import { describe, expect, it } from "vitest";
import {
  ALARM_HIGH,
  ALARM_LOW,
  ALARM_STATUS,
  CLEAR_ALARM,
  CLEAR_INTERRUPT,
  GoldfishRtc,
  IRQ_ENABLED,
  TIME_HIGH,
  TIME_LOW,
} from "./index.js";

const SEC = 1_000_000_000;
// 2026-01-01T00:00:00Z in ns: its upper 32 bits are 0x18867251.
const EPOCH_2026 = 1_767_225_600n * 1_000_000_000n;

function make(clock = new ManualClock()) {
  const irq = new IrqRecorder();
  let errors = 0;
  const wallClock = { epochNs: () => EPOCH_2026 + BigInt(clock.now()) };
  const rtc = new GoldfishRtc({ wallClock, timers: clock, irq, events: { onGuestError: () => errors++ } });
  // rtc-goldfish.c reads LOW then HIGH.
  const readTime = () => {
    const low = rtc.read(TIME_LOW, 4);
    return (BigInt(rtc.read(TIME_HIGH, 4)) << 32n) | BigInt(low);
  };
  // rtc-goldfish.c writes HIGH then LOW, for the alarm and for the time.
  const write64 = (low: number, value: bigint) => {
    rtc.write(low + 4, 4, Number(value >> 32n));
    rtc.write(low, 4, Number(value & 0xffff_ffffn));
  };
  return { rtc, irq, clock, readTime, write64, errors: () => errors };
}

describe("GoldfishRtc time", () => {
  it("reads the wall clock in ns, latching TIME_HIGH on the TIME_LOW read", () => {
    const { rtc, clock, readTime } = make();
    expect(readTime()).toBe(EPOCH_2026);
    expect(Number(EPOCH_2026 >> 32n)).toBe(0x18867251);
    const low = rtc.read(TIME_LOW, 4);
    clock.advance(2 ** 33); // would move the high half by 2 if read live
    expect(rtc.read(TIME_HIGH, 4)).toBe(0x18867251);
    expect(low).toBe(Number(EPOCH_2026 & 0xffff_ffffn));
  });

  it("keeps running from a time the guest sets", () => {
    const { clock, readTime, write64 } = make();
    write64(TIME_LOW, 1_000n * BigInt(SEC));
    clock.advance(2 * SEC);
    expect(readTime()).toBe(1_002n * BigInt(SEC));
  });
});

describe("GoldfishRtc alarm", () => {
  it("raises the interrupt when the time reaches the alarm, until cleared", () => {
    const { rtc, irq, clock, write64 } = make();
    write64(ALARM_LOW, EPOCH_2026 + 5n * BigInt(SEC));
    rtc.write(IRQ_ENABLED, 4, 1);
    expect(rtc.read(ALARM_STATUS, 4)).toBe(1);
    expect(rtc.read(ALARM_HIGH, 4)).toBe(Number((EPOCH_2026 + 5n * BigInt(SEC)) >> 32n));
    clock.advance(5 * SEC - 1);
    expect(irq.level).toBe(false);
    clock.advance(1);
    expect(irq.level).toBe(true);
    expect(rtc.read(ALARM_STATUS, 4)).toBe(0);
    rtc.write(CLEAR_INTERRUPT, 4, 1);
    expect(irq.level).toBe(false);
    expect(irq.risingEdges).toBe(1);
  });

  it("fires at once for an alarm in the past, gated by IRQ_ENABLED", () => {
    const { rtc, irq, write64 } = make();
    write64(ALARM_LOW, EPOCH_2026 - 1n);
    expect(rtc.read(ALARM_STATUS, 4)).toBe(0);
    expect(irq.level).toBe(false);
    rtc.write(IRQ_ENABLED, 4, 1);
    expect(rtc.read(IRQ_ENABLED, 4)).toBe(1);
    expect(irq.level).toBe(true);
    rtc.write(IRQ_ENABLED, 4, 0);
    expect(irq.level).toBe(false);
  });

  it("never fires after CLEAR_ALARM", () => {
    const { rtc, irq, clock, write64 } = make();
    rtc.write(IRQ_ENABLED, 4, 1);
    write64(ALARM_LOW, EPOCH_2026 + BigInt(SEC));
    rtc.write(CLEAR_ALARM, 4, 1);
    expect(rtc.read(ALARM_STATUS, 4)).toBe(0);
    clock.advance(2 * SEC);
    expect(irq.level).toBe(false);
  });

  it("counts bad offsets and widths without throwing", () => {
    const { rtc, errors } = make();
    expect(rtc.read(0x20, 4)).toBe(0);
    rtc.write(ALARM_STATUS, 4, 1);
    rtc.write(TIME_LOW, 2, 1);
    expect(rtc.read(TIME_LOW + 1, 4)).toBe(0);
    expect(errors()).toBe(4);
  });
});

describe("GoldfishRtc snapshot", () => {
  it("restores time offset, armed alarm and interrupt state", () => {
    const a = make();
    a.write64(TIME_LOW, 100n * BigInt(SEC));
    a.rtc.write(IRQ_ENABLED, 4, 1);
    a.write64(ALARM_LOW, 103n * BigInt(SEC));
    a.clock.advance(1 * SEC);
    const state = structuredClone(a.rtc.saveState());

    const b = make(new ManualClock(a.clock.now()));
    b.rtc.loadState(state);
    expect(b.readTime()).toBe(101n * BigInt(SEC));
    expect(b.rtc.read(ALARM_STATUS, 4)).toBe(1);
    b.clock.advance(2 * SEC - 1);
    expect(b.irq.level).toBe(false);
    b.clock.advance(1);
    expect(b.irq.level).toBe(true);

    const c = make(new ManualClock(b.clock.now()));
    c.rtc.loadState(structuredClone(b.rtc.saveState()));
    expect(c.irq.level).toBe(true);
    expect(() => c.rtc.loadState({ ...state, version: 2 } as never)).toThrow(UnsupportedError);
  });
});

describe("GoldfishRtc under a misbehaving guest", () => {
  it("survives random accesses, counting the invalid ones, and still tells the time", () => {
    const { rtc, clock, readTime, write64, errors } = make();
    fuzzMmio(rtc, { accesses: 20_000 });
    clock.advance(1e9);
    expect(errors()).toBeGreaterThan(0);
    write64(TIME_LOW, 42n);
    clock.advance(8);
    expect(readTime()).toBe(50n);
  });
});
