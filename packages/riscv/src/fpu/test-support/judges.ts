/// <reference types="node" />
/**
 * Peers that judge the FPU: the host CPU (a C program using <fenv.h>, built
 * with the host `cc`) and QEMU's RISC-V hart (a bare-metal program generated
 * from the vectors, run on `qemu-system-riscv64 -M virt`, printing results
 * and fflags through the 16550 UART at 0x10000000).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OpSpec } from "./ops-table.js";

export interface Vector {
  op: OpSpec;
  rm: number;
  args: bigint[];
}

export interface Verdict {
  result: bigint;
  flags: number;
}

const hex = (x: bigint): string => x.toString(16);

function parse(out: string, count: number): Verdict[] {
  const lines = out.trim().split("\n");
  if (lines.length !== count) throw new Error(`judge printed ${lines.length} lines for ${count} vectors`);
  return lines.map((l) => {
    const [r, f] = l.trim().split(" ");
    return { result: BigInt(`0x${r}`), flags: Number.parseInt(f, 16) };
  });
}

function hasTool(cmd: string): boolean {
  return spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
}

/** The host judge's flag and NaN mapping is written for x86-64 SSE. */
export const haveHostCc = process.arch === "x64" && hasTool("cc");
export const haveQemu = hasTool("qemu-system-riscv64") && hasTool("riscv64-unknown-elf-gcc");

let hostJudge: string | undefined;

/** Runs the vectors (rm 0..3 only) on the host CPU. */
export function judgeOnHost(vectors: readonly Vector[]): Verdict[] {
  if (!hostJudge) {
    const dir = mkdtempSync(join(tmpdir(), "fpu-host-"));
    hostJudge = join(dir, "judge");
    const src = fileURLToPath(new URL("./host-judge.c", import.meta.url));
    execFileSync("cc", ["-O2", "-frounding-math", "-ffp-contract=off", "-o", hostJudge, src, "-lm"]);
  }
  const input = vectors
    .map((v) => `${v.op.name} ${v.rm} ${hex(v.args[0])} ${hex(v.args[1] ?? 0n)} ${hex(v.args[2] ?? 0n)}\n`)
    .join("");
  const out = execFileSync(hostJudge, { input, maxBuffer: 1 << 28 }).toString();
  return parse(out, vectors.length);
}

/** NaN-boxes binary32 register operands (section 12.2) so the D-capable hart sees them as valid. */
function register(op: OpSpec, i: number, x: bigint): bigint {
  return op.inputs[i] === "f32" ? x | 0xffffffff00000000n : x;
}

/** A claimed result as RV64 leaves it in an integer register: 32-bit results are sign-extended. */
function registerResult(op: OpSpec, x: bigint): bigint {
  const narrow = op.output === "f32" || op.output === "i32" || op.output === "u32";
  return narrow ? BigInt.asUintN(64, BigInt.asIntN(32, x)) : x;
}

/**
 * Generates the bare-metal RISC-V program that runs every vector with its
 * rounding mode in frm, compares the result register and fflags with the
 * claim stored beside it, and prints "index result fflags" (hex) for each
 * disagreement, then "E" and the number of vectors run.
 */
function program(ops: readonly OpSpec[], vectors: readonly Vector[], claims: readonly Verdict[]): string {
  const index = new Map(ops.map((o, i) => [o, i]));
  const stubs = ops.map((o, i) => `op${i}:\n${o.asm}\n  j done`).join("\n");
  const data = vectors
    .map((v, k) => {
      const words = [
        BigInt(index.get(v.op) ?? 0),
        BigInt(v.rm),
        ...[0, 1, 2].map((i) => register(v.op, i, v.args[i] ?? 0n)),
        registerResult(v.op, claims[k].result),
        BigInt(claims[k].flags),
      ];
      return `  .dword ${words.map((w) => `0x${hex(w)}`).join(", ")}`;
    })
    .join("\n");
  return `
  .option norvc
  .option norelax
  .text
  .globl _start
_start:
  li t0, 0x6000          # mstatus.FS = Dirty: enable the FPU
  csrs mstatus, t0
  la s0, vectors
  la s1, vectors_end
  li s2, 0x10000000      # 16550 UART
  li s6, 0               # vector index
loop:
  bgeu s0, s1, finish
  ld t0, 0(s0)
  ld t1, 8(s0)
  fsrm t1
  fsflags zero
  ld a1, 16(s0)
  ld a2, 24(s0)
  ld a3, 32(s0)
  fmv.d.x fa1, a1
  fmv.d.x fa2, a2
  fmv.d.x fa3, a3
  la t2, table
  slli t0, t0, 3
  add t2, t2, t0
  ld t2, 0(t2)
  jr t2
done:
  frflags s3
  ld t0, 40(s0)
  ld t1, 48(s0)
  bne a0, t0, 1f
  beq s3, t1, 2f
1:
  mv s4, a0
  mv a0, s6
  jal ra, print64
  li a0, 32
  jal ra, putc
  mv a0, s4
  jal ra, print64
  li a0, 32
  jal ra, putc
  mv a0, s3
  jal ra, print64
  li a0, 10
  jal ra, putc
2:
  addi s6, s6, 1
  addi s0, s0, 56
  j loop
finish:
  li a0, 69              # 'E'
  jal ra, putc
  mv a0, s6
  jal ra, print64
  li a0, 10
  jal ra, putc
  li t0, 0x100000        # sifive_test: 0x5555 = pass/exit
  li t1, 0x5555
  sw t1, 0(t0)
3:
  j 3b
print64:                 # a0 as 16 hex digits
  mv t5, a0
  mv t6, ra
  li t4, 60
4:
  srl a0, t5, t4
  jal ra, puthex
  addi t4, t4, -4
  bgez t4, 4b
  jr t6
puthex:
  andi a0, a0, 15
  li t3, 10
  blt a0, t3, 5f
  addi a0, a0, 39        # 'a' - '0' - 10
5:
  addi a0, a0, 48
putc:
  lbu t3, 5(s2)          # LSR.THRE
  andi t3, t3, 0x20
  beqz t3, putc
  sb a0, 0(s2)
  ret
${stubs}
  .data
  .balign 8
table:
${ops.map((_, i) => `  .dword op${i}`).join("\n")}
vectors:
${data}
vectors_end:
`;
}

/**
 * Runs the vectors (any rm) on QEMU's RISC-V hart, which checks each claimed
 * verdict itself; returns QEMU's verdicts (the claim where QEMU agreed).
 */
export function judgeOnQemu(
  ops: readonly OpSpec[],
  vectors: readonly Vector[],
  claims: readonly Verdict[],
): Verdict[] {
  const dir = mkdtempSync(join(tmpdir(), "fpu-qemu-"));
  const asm = join(dir, "prog.S");
  const elf = join(dir, "prog.elf");
  writeFileSync(asm, program(ops, vectors, claims));
  execFileSync("riscv64-unknown-elf-gcc", [
    "-nostdlib",
    "-march=rv64gc",
    "-mabi=lp64d",
    "-Ttext=0x80000000",
    "-o",
    elf,
    asm,
  ]);
  const out = execFileSync(
    "qemu-system-riscv64",
    ["-M", "virt", "-bios", "none", "-nographic", "-kernel", elf],
    {
      timeout: 60_000 + vectors.length, // ms
      maxBuffer: 1 << 28,
      stdio: ["ignore", "pipe", "pipe"],
    },
  ).toString();
  const lines = out.replace(/\r/g, "").trim().split("\n");
  const end = lines.pop() ?? "";
  if (end !== `E${vectors.length.toString(16).padStart(16, "0")}`)
    throw new Error(`QEMU run incomplete: ${end}`);
  const verdicts = [...claims];
  for (const line of lines) {
    const [i, r, f] = line.split(" ").map((x) => BigInt(`0x${x}`));
    verdicts[Number(i)] = { result: r, flags: Number(f) };
  }
  return verdicts;
}
