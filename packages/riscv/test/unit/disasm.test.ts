// The disassembler is judged by GNU objdump on the same machine code.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { disassemble } from "../../src/index.js";
import { HAVE_TOOLCHAIN, SKIP_REASON } from "./harness.js";

const SOURCE = `
  .option norvc
  lui a0, 0x12345
  auipc t1, 0xfffff
  jal ra, .+2048
  jalr zero, -4(t0)
  beq a0, a1, .-16
  bgeu s0, s1, .+64
  lb a0, -1(sp)
  ld s11, 2040(gp)
  lwu t6, 0(a5)
  sd ra, -8(sp)
  addi a0, a1, -2048
  slli t0, t1, 63
  sraiw a2, a3, 31
  sub a0, a1, a2
  sltu t3, t4, t5
  mulhsu a0, a1, a2
  remuw a3, a4, a5
  lr.d t0, (a0)
  sc.w t1, t2, (a1)
  amomaxu.d a0, a1, (a2)
  csrrw a0, 0x300, a1
  csrrci zero, 0x344, 5
  ecall
  ebreak
  mret
  sret
  wfi
  sfence.vma a0, a1
  fence.i
  sh3add a0, a1, a2
  rori a0, a1, 13
  clzw a3, a4
  rev8 t0, t1
  bexti a0, a1, 63
  fadd.d fa0, fa1, fa2, rtz
  fmadd.s ft0, ft1, ft2, ft3
  flw fs0, 12(sp)
  fsd fa5, -16(a0)
  fcvt.w.d a0, fa1, rup
  fmv.x.d a1, ft11
  feq.s a0, fa0, fa1
  fsgnjx.d ft0, ft1, ft2
  fclass.d a0, ft0
  fcvt.d.lu fa0, a1
`;

/** objdump's rendering of each instruction word: [word, "mnemonic operands"]. */
function objdump(source: string): Array<[number, string]> {
  const dir = mkdtempSync(join(tmpdir(), "bp-dis-"));
  try {
    writeFileSync(join(dir, "d.s"), source);
    execFileSync("riscv64-unknown-elf-as", [
      "-march=rv64gc_zba_zbb_zbs",
      "-o",
      join(dir, "d.o"),
      join(dir, "d.s"),
    ]);
    const text = execFileSync(
      "riscv64-unknown-elf-objdump",
      ["-d", "-M", "no-aliases,numeric", join(dir, "d.o")],
      {
        encoding: "utf8",
      },
    );
    const out: Array<[number, string]> = [];
    for (const line of text.split("\n")) {
      const m = /^\s+[0-9a-f]+:\s+([0-9a-f]{8})\s+(\S+)\s*(.*)$/.exec(line);
      if (m)
        out.push([
          Number.parseInt(m[1], 16),
          `${m[2]} ${m[3].replace(/\s*#.*$/, "").replace(/\s*<.*>$/, "")}`.trim(),
        ]);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Normalize both renderings to mnemonic + operands with x/f register numbers. */
const ABI = [
  "zero",
  "ra",
  "sp",
  "gp",
  "tp",
  "t0",
  "t1",
  "t2",
  "s0",
  "s1",
  "a0",
  "a1",
  "a2",
  "a3",
  "a4",
  "a5",
  "a6",
  "a7",
  "s2",
  "s3",
  "s4",
  "s5",
  "s6",
  "s7",
  "s8",
  "s9",
  "s10",
  "s11",
  "t3",
  "t4",
  "t5",
  "t6",
];
const FABI = [
  "ft0",
  "ft1",
  "ft2",
  "ft3",
  "ft4",
  "ft5",
  "ft6",
  "ft7",
  "fs0",
  "fs1",
  "fa0",
  "fa1",
  "fa2",
  "fa3",
  "fa4",
  "fa5",
  "fa6",
  "fa7",
  "fs2",
  "fs3",
  "fs4",
  "fs5",
  "fs6",
  "fs7",
  "fs8",
  "fs9",
  "fs10",
  "fs11",
  "ft8",
  "ft9",
  "ft10",
  "ft11",
];
function numeric(text: string): string {
  return text
    .split(/([\s,()]+)/)
    .map((tok) => {
      const xi = ABI.indexOf(tok);
      if (xi >= 0) return `x${xi}`;
      const fi = FABI.indexOf(tok);
      if (fi >= 0) return `f${fi}`;
      if (/^-?\d+$/.test(tok)) return String(Number(tok));
      if (/^0x[0-9a-f]+$/.test(tok)) return String(Number(tok));
      return tok;
    })
    .join("")
    .replace(/\s+/g, " ")
    .replace(/\s*,\s*/g, ", ");
}

describe.skipIf(!HAVE_TOOLCHAIN)(`disassemble${HAVE_TOOLCHAIN ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  it("agrees with objdump -M no-aliases,numeric on mnemonics and operands", () => {
    const lines = objdump(SOURCE);
    expect(lines.length).toBeGreaterThan(40);
    for (const [word, expected] of lines) {
      // objdump prints branch/jump targets as absolute addresses from 0; we print offsets without a pc.
      const ours = disassemble(word, 0n);
      const isBranch = /^(b\w+|jal)\s/.test(expected);
      const want = numeric(expected);
      const got = numeric(ours);
      if (isBranch) expect(got.split(" ")[0]).toBe(want.split(" ")[0]);
      else expect(got, `0x${word.toString(16)}`).toBe(want);
    }
  });

  it("names illegal encodings", () => {
    expect(disassemble(0)).toBe("illegal 0x0");
    expect(disassemble(0xffffffff)).toBe("illegal 0xffffffff");
  });
});
