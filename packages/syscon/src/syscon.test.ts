import { UnsupportedError } from "@backplane/core";
import { fuzzMmio } from "@backplane/testing";
import { describe, expect, it } from "vitest";
import { Syscon, type SysconEvents } from "./index.js";

function make() {
  const log: string[] = [];
  const events: SysconEvents = {
    onPowerOff: (code, status) => log.push(`poweroff ${status} ${code}`),
    onReset: () => log.push("reset"),
    onGuestError: () => log.push("guest error"),
  };
  return { dev: new Syscon({ events }), log };
}

describe("Syscon (SiFive test finisher)", () => {
  it("reports pass, fail with its code, and reset", () => {
    const { dev, log } = make();
    dev.write(0, 4, 0x5555);
    dev.write(0, 4, 0x3333 | (7 << 16));
    dev.write(0, 4, 0x3333);
    dev.write(0, 4, 0x7777);
    expect(log).toEqual(["poweroff pass 0", "poweroff fail 7", "poweroff fail 0", "reset"]);
  });

  it("reads 0 so Linux's read-modify-write leaves the command intact", () => {
    const { dev } = make();
    expect(dev.read(0, 4)).toBe(0);
  });

  it("ignores unknown commands and other offsets, counting them", () => {
    const { dev, log } = make();
    dev.write(0, 4, 0x1234);
    dev.write(4, 4, 0x5555);
    expect(log).toEqual(["guest error", "guest error"]);
  });

  it("works without hooks", () => {
    const dev = new Syscon();
    expect(() => dev.write(0, 4, 0x5555)).not.toThrow();
  });

  it("round-trips its (empty) state and rejects unknown versions", () => {
    const { dev } = make();
    const fresh = make();
    fresh.dev.loadState(structuredClone(dev.saveState()));
    fresh.dev.write(0, 4, 0x5555);
    expect(fresh.log).toEqual(["poweroff pass 0"]);
    expect(() => fresh.dev.loadState({ version: 2 } as never)).toThrow(UnsupportedError);
  });
});

describe("Syscon under a misbehaving guest", () => {
  it("survives random accesses, counting the invalid ones", () => {
    const { dev, log } = make();
    fuzzMmio(dev, { accesses: 20_000 });
    expect(log.filter((e) => e === "guest error").length).toBeGreaterThan(0);
  });
});
