/**
 * Runs a bare-metal test ELF on Backplane's virt machine the way the QEMU
 * harness runs it on QEMU (`-bios none -kernel prog.elf`), capturing UART0
 * and the test device's exit status in the same form.
 */
import { readFileSync } from "node:fs";
import type { CharBackend } from "@backplane/core";
import { VirtMachine } from "../src/index.js";
import type { Xlen } from "./build.js";
import type { RunResult } from "./qemu.js";

/** Runs `elf` on an RV`xlen` hart for at most `maxInstructions`; exitCode is null when it did not finish. */
export function runBackplane(elf: string, maxInstructions = 200_000_000, xlen: Xlen = 64): RunResult {
  const chunks: string[] = [];
  const console: CharBackend = {
    write: (data) => void chunks.push(Buffer.from(data).toString("latin1")),
    read: () => 0,
    onReadable: () => () => {},
  };
  const machine = new VirtMachine({ console, xlen });
  machine.boot({ kernel: readFileSync(elf) });
  const exit = machine.runSync(maxInstructions);
  // A process exit status keeps the low 8 bits of QEMU's exit(code).
  return { output: chunks.join(""), exitCode: exit === undefined ? null : exit.code & 0xff };
}
