/**
 * Differential tests of the whole machine (hart, memory, CLINT, UART, test
 * device) against QEMU 7.2: the hand-written programs of
 * packages/riscv/test/programs and a batch of seeded random programs from the
 * generator run on `qemu-system-riscv{32,64} -M virt` and on Backplane, and
 * must print the same UART output and end with the same exit status.
 * `BACKPLANE_DIFF_COUNT=5000` runs thousands of random cases;
 * `BACKPLANE_DIFF_SEED=n` starts at another seed (to replay a failure).
 */
import { describe, expect, it } from "vitest";
import {
  buildGenerated,
  buildPrograms,
  diffPlan,
  GCC,
  missingTools,
  QEMU32,
  QEMU64,
  runBackplane,
  runQemu,
} from "../test-support/index.js";

const skip = missingTools(GCC, QEMU64, QEMU32);

/** Compares line by line so a failure shows the first diverging line, not two 40 KiB strings. */
function expectSameRun(
  ours: { output: string; exitCode: number | null },
  peer: { output: string; exitCode: number | null },
): void {
  const a = ours.output.split("\n");
  const b = peer.output.split("\n");
  const first = a.findIndex((line, i) => line !== b[i]);
  if (first >= 0 || a.length !== b.length) {
    const at = first >= 0 ? first : Math.min(a.length, b.length);
    expect({ line: at, context: a.slice(Math.max(0, at - 6), at + 3) }).toEqual({
      line: at,
      context: b.slice(Math.max(0, at - 6), at + 3),
    });
  }
  expect(ours.exitCode).toBe(peer.exitCode);
}

describe.skipIf(skip !== undefined)(`Backplane vs QEMU${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const programs = skip ? [] : buildPrograms();
  for (const program of programs) {
    it(`${program.name}`, async () => {
      expectSameRun(
        runBackplane(program.elf, undefined, program.xlen),
        await runQemu(program.elf, program.xlen),
      );
    });
  }

  const plan = diffPlan();
  it(
    `generated programs, seeds ${plan.firstSeed}..${plan.firstSeed + plan.programs - 1}`,
    async () => {
      for (let seed = plan.firstSeed; seed < plan.firstSeed + plan.programs; seed++) {
        const program = buildGenerated(seed);
        const peer = await runQemu(program.elf, 64);
        const ours = runBackplane(program.elf);
        try {
          expectSameRun(ours, peer);
        } catch (e) {
          throw new Error(`seed ${seed} (${program.elf}) diverges from QEMU`, { cause: e });
        }
      }
    },
    Math.max(600_000, plan.programs * 10_000),
  );
});
