/**
 * Locating the external peers and tools the CPU tests use: the bare-metal
 * RISC-V GCC toolchain and QEMU's riscv32/riscv64 system emulators (Debian
 * packages gcc-riscv64-unknown-elf and qemu-system-misc). Tests skip with a
 * clear message when one is missing.
 */
import { spawnSync } from "node:child_process";

export const GCC = process.env.BACKPLANE_RISCV_GCC ?? "riscv64-unknown-elf-gcc";
export const QEMU64 = process.env.BACKPLANE_QEMU_RISCV64 ?? "qemu-system-riscv64";
export const QEMU32 = process.env.BACKPLANE_QEMU_RISCV32 ?? "qemu-system-riscv32";

const found = new Map<string, boolean>();

/** True when `command --version` runs. */
export function haveTool(command: string): boolean {
  let ok = found.get(command);
  if (ok === undefined) {
    ok = spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
    found.set(command, ok);
  }
  return ok;
}

/** A reason to skip, or undefined when every named tool is present. */
export function missingTools(...commands: string[]): string | undefined {
  const missing = commands.filter((c) => !haveTool(c));
  return missing.length === 0 ? undefined : `not installed: ${missing.join(", ")}`;
}
