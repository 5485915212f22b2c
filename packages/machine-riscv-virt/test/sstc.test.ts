/**
 * A hart waiting in WFI for its Sstc timer (stimecmp) wakes when `time`
 * reaches stimecmp, in virtual time and in host time, as on QEMU: the
 * machine arms a timer for the stimecmp deadline, since nothing else in the
 * timer queue would end the wait (Linux's idle loop with Sstc relies on it).
 * And `time` advances within a run slice in virtual time.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CharBackend } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { VirtMachine } from "../src/index.js";
import { buildProgram, GCC, missingTools, QEMU64, runQemu } from "../test-support/index.js";

const skip = missingTools(GCC, QEMU64);

function capture(): { console: CharBackend; text: () => string } {
  const chunks: string[] = [];
  return {
    console: {
      write: (data) => void chunks.push(Buffer.from(data).toString("latin1")),
      read: () => 0,
      onReadable: () => () => {},
    },
    text: () => chunks.join(""),
  };
}

describe.skipIf(skip !== undefined)(`Sstc timer wake-up${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const elf = skip ? "" : buildProgram(join(import.meta.dirname, "sstc_wfi.S")).elf;

  it("wakes from WFI at stimecmp in virtual time, like QEMU", async () => {
    const peer = await runQemu(elf, 64);
    const out = capture();
    const machine = new VirtMachine({ console: out.console });
    machine.boot({ kernel: readFileSync(elf) });
    const exit = machine.runSync(1_000_000);
    expect(out.text()).toBe(peer.output);
    expect([exit, peer.exitCode]).toEqual([{ code: 0, reset: false }, 0]);
    // 1000 ticks of 100 ns: the wait ends about 100 us of guest time later.
    expect(machine.clock.now()).toBeGreaterThanOrEqual(100_000);
  });

  it("advances the time CSR within a run slice in virtual time, like QEMU", async () => {
    const loop = buildProgram(join(import.meta.dirname, "rdtime_loop.S")).elf;
    const peer = await runQemu(loop, 64);
    const out = capture();
    const machine = new VirtMachine({ console: out.console });
    machine.boot({ kernel: readFileSync(loop) });
    const exit = machine.runSync(1_000_000);
    expect([out.text(), exit]).toEqual([peer.output, { code: 0, reset: false }]);
    expect(peer.output).toBe("time advanced\n");
  });

  it("wakes from WFI at stimecmp in host time", async () => {
    const out = capture();
    let now = 0;
    const machine = new VirtMachine({
      console: out.console,
      hostTime: () => now,
      host: {
        sleep: async (ms) => {
          now += ms * 1e6;
        },
        yield: async () => {
          now += 1000;
        },
      },
    });
    machine.boot({ kernel: readFileSync(elf) });
    const exit = await Promise.race([
      machine.run(),
      new Promise((resolve) => setTimeout(() => resolve("hung"), 10_000)),
    ]);
    expect(exit).toEqual({ code: 0, reset: false });
    expect(out.text()).toContain("S: woke on STIP");
  });
});
