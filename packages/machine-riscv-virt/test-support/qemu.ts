/**
 * Runs a bare-metal test ELF on QEMU's `virt` board, the reference peer:
 * `qemu-system-riscv64 -M virt -bios none -nographic -kernel prog.elf`.
 * The program's UART output is QEMU's stdout; its exit status comes from the
 * SiFive test device (0x5555 -> 0, (code << 16) | 0x3333 -> code & 0xff).
 */
import { spawn } from "node:child_process";
import type { Xlen } from "./build.js";
import { QEMU32, QEMU64 } from "./tools.js";

export interface RunResult {
  /** Everything the guest wrote to UART0. */
  output: string;
  /** Process-style exit status (0 = pass); null when the run timed out. */
  exitCode: number | null;
}

/** Runs `elf` to completion (or `timeoutMs`) on QEMU. */
export function runQemu(elf: string, xlen: Xlen, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      xlen === 64 ? QEMU64 : QEMU32,
      ["-M", "virt", "-m", "128M", "-smp", "1", "-bios", "none", "-nographic", "-kernel", elf],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8");
      if (!timedOut && code !== 0 && stderr.includes("qemu-system")) {
        reject(new Error(`QEMU failed on ${elf}: ${stderr}`));
        return;
      }
      resolve({ output: Buffer.concat(out).toString("latin1"), exitCode: timedOut ? null : code });
    });
  });
}
