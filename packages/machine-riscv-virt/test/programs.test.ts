/**
 * The hand-written test programs, judged by QEMU: each one assembles, runs on
 * `qemu-system-riscv{32,64} -M virt` and passes its own hand-derived checks
 * (exit status 0 through the SiFive test device). This proves the programs'
 * expectations against the reference peer; the machine package then runs the
 * same ELFs on Backplane and requires identical output.
 */
import { describe, expect, it } from "vitest";
import { buildPrograms, GCC, missingTools, QEMU32, QEMU64, runQemu } from "../test-support/index.js";

const skip = missingTools(GCC, QEMU64, QEMU32);

describe.skipIf(skip !== undefined)(`test programs on QEMU${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const programs = skip ? [] : buildPrograms();
  it("cover RV64 and RV32", () => {
    expect(programs.filter((p) => p.xlen === 32).length).toBeGreaterThanOrEqual(2);
    expect(programs.filter((p) => p.xlen === 64).length).toBeGreaterThanOrEqual(10);
  });
  for (const program of programs) {
    it(`${program.name} passes its self-checks`, async () => {
      const result = await runQemu(program.elf, program.xlen);
      expect(result.output).not.toMatch(/FAIL|unexpected trap/);
      expect(result.exitCode).toBe(0);
      expect(result.output.length).toBeGreaterThan(0);
    });
  }
});
