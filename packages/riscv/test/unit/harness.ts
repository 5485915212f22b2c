// Test harness: assembles a program with the Debian RISC-V toolchain, loads
// it with loadElf into a small machine (RAM at 0x8000_0000) and runs a hart.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AddressSpace } from "@backplane/memory";
import { Hart, type HartOptions, loadElf } from "../../src/index.js";

export const RAM_BASE = 0x8000_0000;

function has(tool: string): boolean {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** True when riscv64-unknown-elf-as/ld are installed; tests using {@link assemble} skip otherwise. */
export const HAVE_TOOLCHAIN = has("riscv64-unknown-elf-as") && has("riscv64-unknown-elf-ld");
export const SKIP_REASON =
  "riscv64-unknown-elf binutils not installed (Debian: binutils-riscv64-unknown-elf)";

/** Assembles `source` (linked at RAM_BASE, entry `_start` = first instruction) into an ELF image. */
export function assemble(source: string, march = "rv64gc_zba_zbb_zbs"): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "bp-riscv-"));
  try {
    writeFileSync(join(dir, "p.s"), `.option norelax\n.globl _start\n_start:\n${source}\n`);
    const abi = march.startsWith("rv32") ? ["-mabi=ilp32d"] : [];
    execFileSync("riscv64-unknown-elf-as", [
      `-march=${march}`,
      ...abi,
      "-o",
      join(dir, "p.o"),
      join(dir, "p.s"),
    ]);
    const emulation = march.startsWith("rv32") ? ["-m", "elf32lriscv"] : [];
    execFileSync("riscv64-unknown-elf-ld", [
      ...emulation,
      "-N",
      "-Ttext=0x80000000",
      "-o",
      join(dir, "p.elf"),
      join(dir, "p.o"),
    ]);
    return new Uint8Array(readFileSync(join(dir, "p.elf")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Machine {
  bus: AddressSpace;
  hart: Hart;
  /** Runs until the hart waits in WFI (or the budget is used up); returns instructions executed. */
  run(budget?: number): number;
}

/** A hart with 1 MiB of RAM at RAM_BASE running `source` from its first instruction. */
export function machine(source: string, options: Partial<HartOptions> = {}): Machine {
  const bus = new AddressSpace();
  bus.addRam("ram", RAM_BASE, 1 << 20);
  const elf = loadElf(bus, assemble(source, options.xlen === 32 ? "rv32gc_zba_zbb_zbs" : undefined));
  const hart = new Hart({ bus, resetPc: elf.entry, ...options });
  return {
    bus,
    hart,
    run(budget = 100_000) {
      let total = 0;
      while (total < budget) {
        const r = hart.run(budget - total);
        total += r.executed;
        if (r.waiting) break;
      }
      return total;
    },
  };
}

/** Register numbers by ABI name. */
export const X = {
  ra: 1,
  sp: 2,
  gp: 3,
  tp: 4,
  t0: 5,
  t1: 6,
  t2: 7,
  s0: 8,
  s1: 9,
  a0: 10,
  a1: 11,
  a2: 12,
  a3: 13,
  a4: 14,
  a5: 15,
  a6: 16,
  a7: 17,
  s2: 18,
  t3: 28,
  t4: 29,
  t5: 30,
  t6: 31,
} as const;
