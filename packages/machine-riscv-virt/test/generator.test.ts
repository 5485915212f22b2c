/**
 * The random program generator: deterministic per seed, and every program it
 * emits assembles and runs to completion on QEMU with one state dump per
 * case (so the differential test compares complete runs, never a hang).
 */
import { describe, expect, it } from "vitest";
import {
  buildGenerated,
  CASES_PER_PROGRAM,
  GCC,
  generateProgram,
  missingTools,
  QEMU64,
  runQemu,
} from "../test-support/index.js";

describe("generateProgram", () => {
  it("is a pure function of the seed", () => {
    expect(generateProgram({ seed: 7 })).toBe(generateProgram({ seed: 7 }));
    expect(generateProgram({ seed: 7 })).not.toBe(generateProgram({ seed: 8 }));
  });

  it("covers every instruction group it promises", () => {
    const text = Array.from({ length: 8 }, (_, i) => generateProgram({ seed: 100 + i })).join("\n");
    for (const needle of [
      /\n {2}div[uw]* /,
      /\n {2}amo\w+\.[wd]/,
      /\n {2}lr\.[wd] /,
      /\n {2}sc\.[wd] /,
      /\n {2}c\.\w+ /,
      /\n {2}f\w+\.d .*, (rne|rtz|rdn|rup|rmm|dyn)\n/,
      /\n {2}f\w+\.s .*, (rne|rtz|rdn|rup|rmm|dyn)\n/,
      /\n {2}csrrci x\d+, fflags, 0x1f/,
      /\n {2}\.word 0xffffffff/,
      /\n {2}ecall/,
      /csrw satp, t6/,
      /\n {2}(sh[123]add|andn|clz|bset)/,
      /\n {2}mret/,
    ]) {
      expect(text).toMatch(needle);
    }
  });
});

const skip = missingTools(GCC, QEMU64);

describe.skipIf(skip !== undefined)(`generated programs on QEMU${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("assemble and run every case to its final dump", async () => {
    for (let seed = 1; seed <= 4; seed++) {
      const program = buildGenerated(seed);
      const result = await runQemu(program.elf, 64);
      expect(result.exitCode).toBe(0);
      expect(result.output.match(/^case \d+$/gm)).toHaveLength(CASES_PER_PROGRAM);
      expect(result.output.match(/^pte=/gm)).toHaveLength(8 * CASES_PER_PROGRAM);
    }
  });
});
