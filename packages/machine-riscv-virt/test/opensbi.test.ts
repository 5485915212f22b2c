/**
 * OpenSBI 1.1 (Debian bookworm's generic fw_jump.bin) boots on the machine
 * to the end of its banner, and the banner matches QEMU 7.2's line for line
 * except where the two harts differ by design: QEMU's default CPU has the
 * hypervisor extension (ISA "rv64imafdch", extra MIDELEG/MEDELEG bits) and 16
 * programmable HPM counters; Backplane's hart has neither.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { VirtMachine } from "../src/index.js";
import { missingTools, QEMU64 } from "../test-support/index.js";

const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
const LAST_LINE = "Boot HART MEDELEG";
const skip = existsSync(FW_JUMP) ? missingTools(QEMU64) : `${FW_JUMP} not installed (Debian package opensbi)`;

/** Lines that differ because QEMU's hart has H and HPM counters. */
const HART_SPECIFIC = /^Boot HART (Base ISA|MHPM Count|MIDELEG|MEDELEG) /;

describe.skipIf(skip !== undefined)(`OpenSBI fw_jump${skip ? ` (skipped: ${skip})` : ""}`, () => {
  /** QEMU's console output up to and including the line starting with `last`. */
  function qemuBanner(last: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(QEMU64, ["-M", "virt", "-m", "128M", "-nographic", "-bios", FW_JUMP]);
      let out = "";
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString("latin1");
        if (new RegExp(`${last}[^\\n]*\\n`).test(out)) child.kill("SIGKILL");
      });
      child.on("error", reject);
      child.on("close", () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
  }

  it("prints the same banner as on QEMU", async () => {
    const chunks: string[] = [];
    const machine = new VirtMachine({
      console: {
        write: (d) => void chunks.push(Buffer.from(d).toString("latin1")),
        read: () => 0,
        onReadable: () => () => {},
      },
    });
    const layout = machine.boot({ bios: readFileSync(FW_JUMP) });
    expect(layout.start).toBe(0x8000_0000);
    const done = (): boolean => /Boot HART MEDELEG[^\n]*\n/.test(chunks.join(""));
    for (let i = 0; i < 1000 && !done(); i++) machine.runSync(100_000);
    const ours = chunks.join("").split("\n");
    const qemu = (await qemuBanner(LAST_LINE)).split("\n");
    const end = qemu.findIndex((l) => l.startsWith(LAST_LINE));
    expect(end).toBeGreaterThan(30);
    for (let i = 0; i <= end; i++) {
      if (HART_SPECIFIC.test(qemu[i])) expect(ours[i].split(":")[0]).toBe(qemu[i].split(":")[0]);
      else expect(ours[i]).toBe(qemu[i]);
    }
    expect(ours.find((l) => l.startsWith("Boot HART Base ISA"))).toMatch(/: rv64imafdc\s*$/);
  });
});
