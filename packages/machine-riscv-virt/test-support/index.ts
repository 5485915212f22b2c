/**
 * @backplane/machine-riscv-virt/testing — the CPU test harness shared by the
 * machine's and the CLI's tests: building the bare-metal test programs of
 * packages/riscv/test, running them on QEMU (the reference peer) and on this
 * machine, and the seeded random program generator.
 * Test code only: it uses Node APIs and external tools (riscv64-unknown-elf-gcc,
 * qemu-system-riscv32/64).
 */
export {
  BENCH_DIR,
  BUILD_DIR,
  type BuildOptions,
  buildProgram,
  buildPrograms,
  PROGRAMS_DIR,
  type Program,
  type Xlen,
  xlenOf,
} from "./build.js";
export { buildGenerated, CASES_PER_PROGRAM, type DiffPlan, diffPlan } from "./generated.js";
export { type GeneratorOptions, generateProgram, Rng } from "./generator.js";
export { type RunResult, runQemu } from "./qemu.js";
export { runBackplane } from "./run-backplane.js";
export { GCC, haveTool, missingTools, QEMU32, QEMU64 } from "./tools.js";
