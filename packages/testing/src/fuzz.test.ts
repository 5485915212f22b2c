import type { MmioDevice, NarrowWidth } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { fuzzMmio } from "./index.js";

function recorder(throwAt?: number): MmioDevice & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    size: 0x40,
    widths: [4] as NarrowWidth[],
    read: (o, w) => {
      log.push(`r${w}@${o}`);
      if (o === throwAt) throw new RangeError("boom");
      return 0;
    },
    write: (o, w) => {
      log.push(`w${w}@${o}`);
    },
  };
}

describe("fuzzMmio", () => {
  it("stays inside the window, varies widths, and repeats for the same seed", () => {
    const a = recorder();
    const counts = fuzzMmio(a, { accesses: 500, seed: 7 });
    expect(counts.reads + counts.writes).toBe(500);
    expect(counts.reads).toBeGreaterThan(100);
    expect(counts.writes).toBeGreaterThan(100);
    const offsets = a.log.map((e) => Number(e.split("@")[1]));
    expect(Math.max(...offsets)).toBeLessThan(0x40);
    expect(new Set(a.log.map((e) => e.slice(0, 2))).size).toBe(6); // r1 r2 r4 w1 w2 w4
    const b = recorder();
    fuzzMmio(b, { accesses: 500, seed: 7 });
    expect(b.log).toEqual(a.log);
  });

  it("reports the access that made a device throw", () => {
    expect(() => fuzzMmio(recorder(0x10), { accesses: 5000 })).toThrow(/-byte read at 0x10$/);
  });
});
