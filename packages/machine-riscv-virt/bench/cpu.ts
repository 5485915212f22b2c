/**
 * CPU benchmark: compute-bound guest programs (packages/riscv/test/bench: an
 * integer loop, memcpy, CRC-32, heapsort, a bytecode interpreter) run on
 * Backplane's virt machine and on qemu-system-riscv64 in the same run.
 *
 * Each guest repeats its workload SCALE times. Backplane runs SCALE=1 and 2,
 * which gives the guest's instruction count as a + b * SCALE (the loops are
 * deterministic); QEMU runs a much larger SCALE so its time is not dominated
 * by start-up, and its start-up (a run of the empty program) is subtracted.
 * Both must print the same checksums at SCALE=2.
 *
 * Usage: npm run bench -w @backplane/machine-riscv-virt
 *        (BACKPLANE_BENCH_QEMU_SCALE=n changes QEMU's repeat count, default 200)
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { VirtMachine } from "../src/index.js";
import {
  BENCH_DIR,
  BUILD_DIR,
  buildProgram,
  GCC,
  missingTools,
  PROGRAMS_DIR,
  QEMU64,
  runQemu,
} from "../test-support/index.js";

const GUESTS = ["intloop", "memcpy", "crc32", "sort", "interp"];
const QEMU_SCALE = Number(process.env.BACKPLANE_BENCH_QEMU_SCALE ?? 200);

function runOurs(elf: string): { output: string; instructions: number; seconds: number } {
  const out: string[] = [];
  const machine = new VirtMachine({
    console: {
      write: (d) => void out.push(Buffer.from(d).toString("latin1")),
      read: () => 0,
      onReadable: () => () => {},
    },
  });
  machine.boot({ kernel: readFileSync(elf) });
  const t0 = performance.now();
  const exit = machine.runSync(5_000_000_000);
  const seconds = (performance.now() - t0) / 1000;
  if (exit?.code !== 0) throw new Error(`${elf} did not pass on Backplane: ${JSON.stringify(exit)}`);
  return { output: out.join(""), instructions: machine.loop.retired, seconds };
}

function qemuSeconds(elf: string, runs = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(QEMU64, ["-M", "virt", "-bios", "none", "-nographic", "-kernel", elf], {
      stdio: "ignore",
    });
    if (r.status !== 0) throw new Error(`${elf} failed on QEMU (status ${r.status})`);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

async function main(): Promise<void> {
  const skip = missingTools(GCC, QEMU64);
  if (skip) {
    console.log(`cpu bench skipped: ${skip}`);
    return;
  }
  const build = (name: string, scale: number) =>
    buildProgram(join(BENCH_DIR, `${name}.c`), join(BUILD_DIR, "bench"), {
      defines: { SCALE: scale },
    }).elf;
  const startup = qemuSeconds(buildProgram(join(PROGRAMS_DIR, "rv64i_alu.S")).elf, 5);
  console.log(`QEMU start-up (subtracted): ${(startup * 1000).toFixed(0)} ms; QEMU runs SCALE=${QEMU_SCALE}`);
  console.log("guest     instr(SCALE=2)  backplane s  backplane MIPS  qemu MIPS  slowdown");
  let totalInstr = 0;
  let totalOurs = 0;
  let totalQemuPerInstr = 0;
  for (const name of GUESTS) {
    const one = runOurs(build(name, 1));
    const two = runOurs(build(name, 2));
    const peer = await runQemu(build(name, 2), 64);
    if (peer.output !== two.output)
      throw new Error(`${name}: output differs from QEMU:\n${two.output}\nvs\n${peer.output}`);
    const perScale = two.instructions - one.instructions;
    const fixed = one.instructions - perScale;
    const qemuInstr = fixed + perScale * QEMU_SCALE;
    const qemuTime = Math.max(1e-3, qemuSeconds(build(name, QEMU_SCALE)) - startup);
    const ourMips = two.instructions / two.seconds / 1e6;
    const qemuMips = qemuInstr / qemuTime / 1e6;
    totalInstr += two.instructions;
    totalOurs += two.seconds;
    totalQemuPerInstr += (two.instructions * qemuTime) / qemuInstr;
    console.log(
      `${name.padEnd(9)} ${String(two.instructions).padStart(14)}  ${two.seconds.toFixed(2).padStart(11)}  ${ourMips
        .toFixed(1)
        .padStart(14)}  ${qemuMips.toFixed(0).padStart(9)}  ${(qemuMips / ourMips).toFixed(0).padStart(7)}x`,
    );
  }
  console.log(
    `all       ${String(totalInstr).padStart(14)}  ${totalOurs.toFixed(2).padStart(11)}  ${(
      totalInstr /
      totalOurs /
      1e6
    )
      .toFixed(1)
      .padStart(14)}  ${(totalInstr / totalQemuPerInstr / 1e6).toFixed(0).padStart(9)}  ${(
      totalOurs / totalQemuPerInstr
    )
      .toFixed(0)
      .padStart(7)}x`,
  );
}

await main();
