/**
 * A disassembler for the instructions {@link decode} understands, printing
 * the 32-bit form of compressed instructions with ABI register names (the
 * style of `objdump -d -M no-aliases`, with `c.` prefixes dropped).
 * Spec: unprivileged ISA 20191213, chapter 25 (assembly programmer's handbook,
 * ABI register names).
 */
import { decode, RV32_OP } from "./decode.js";
import { Op } from "./interp.js";

/** ABI names of the integer registers x0..x31 (RISC-V ELF psABI, register convention). */
export const XNAMES: readonly string[] = [
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
  "zero",
];
const FNAMES = [
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
const ROUNDING = ["rne", "rtz", "rdn", "rup", "rmm", "", "", "dyn"];

/** Names of the CSRs the hart implements, as objdump prints them. */
const CSR_NAMES: Record<number, string> = {
  1: "fflags",
  2: "frm",
  3: "fcsr",
  3072: "cycle",
  3073: "time",
  3074: "instret",
  256: "sstatus",
  260: "sie",
  261: "stvec",
  262: "scounteren",
  266: "senvcfg",
  320: "sscratch",
  321: "sepc",
  322: "scause",
  323: "stval",
  324: "sip",
  333: "stimecmp",
  384: "satp",
  3857: "mvendorid",
  3858: "marchid",
  3859: "mimpid",
  3860: "mhartid",
  3861: "mconfigptr",
  768: "mstatus",
  769: "misa",
  770: "medeleg",
  771: "mideleg",
  772: "mie",
  773: "mtvec",
  774: "mcounteren",
  778: "menvcfg",
  800: "mcountinhibit",
  832: "mscratch",
  833: "mepc",
  834: "mcause",
  835: "mtval",
  836: "mip",
  2816: "mcycle",
  2818: "minstret",
};
for (let i = 0; i < 16; i++) CSR_NAMES[0x3b0 + i] = `pmpaddr${i}`;
for (let i = 0; i < 16; i += 2) CSR_NAMES[0x3a0 + i] = `pmpcfg${i}`;
for (let i = 3; i < 32; i++) {
  CSR_NAMES[0xc00 + i] = `hpmcounter${i}`;
  CSR_NAMES[0xb00 + i] = `mhpmcounter${i}`;
  CSR_NAMES[0x320 + i] = `mhpmevent${i}`;
}
const csrName = (n: number): string => CSR_NAMES[n] ?? `0x${n.toString(16)}`;

/** RV32 prints the RV32 mnemonic of the "W" operation it decoded to. */
const RV32_NAME = new Map<Op, string>([...RV32_OP].map(([rv32, w]) => [w, Op[rv32]]));

const x = (r: number): string => XNAMES[r];
const f = (r: number): string => FNAMES[r];
const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** FP operations whose destination is an integer register. */
const FP_TO_X = new Set<Op>([
  Op.FEQ_S,
  Op.FLT_S,
  Op.FLE_S,
  Op.FEQ_D,
  Op.FLT_D,
  Op.FLE_D,
  Op.FCLASS_S,
  Op.FCLASS_D,
  Op.FCVT_W_S,
  Op.FCVT_WU_S,
  Op.FCVT_L_S,
  Op.FCVT_LU_S,
  Op.FCVT_W_D,
  Op.FCVT_WU_D,
  Op.FCVT_L_D,
  Op.FCVT_LU_D,
  Op.FMV_X_W,
  Op.FMV_X_D,
]);
/** FP operations whose source is an integer register. */
const X_TO_FP = new Set<Op>([
  Op.FCVT_S_W,
  Op.FCVT_S_WU,
  Op.FCVT_S_L,
  Op.FCVT_S_LU,
  Op.FCVT_D_W,
  Op.FCVT_D_WU,
  Op.FCVT_D_L,
  Op.FCVT_D_LU,
  Op.FMV_W_X,
  Op.FMV_D_X,
]);
const UNARY = new Set<Op>([
  Op.CLZ,
  Op.CTZ,
  Op.CPOP,
  Op.CLZW,
  Op.CTZW,
  Op.CPOPW,
  Op.SEXT_B,
  Op.SEXT_H,
  Op.ZEXT_H,
  Op.ORC_B,
  Op.REV8,
]);

/**
 * Disassembles one instruction (`insn` holds at least its low 16 bits, all
 * 32 for a 32-bit instruction). With `pc`, branch and jump targets are shown
 * as absolute addresses. `xlen` 32 decodes RV32 encodings (RV32 operations
 * print as the RV64 "W" operation with the same effect, e.g. addiw for addi).
 */
export function disassemble(insn: number, pc?: bigint, xlen: 32 | 64 = 64): string {
  const d = new Int32Array(2);
  decode(insn, d, 0, xlen === 32);
  const w = d[0];
  const imm = d[1];
  const op = (w & 0xff) as Op;
  const rd = (w >>> 8) & 63;
  const rs1 = (w >>> 14) & 63;
  const rs2 = (w >>> 20) & 63;
  const base = xlen === 32 ? RV32_NAME.get(op) : undefined;
  const name = (base ?? Op[op]).toLowerCase().replace(/_/g, ".");
  const target = (): string => (pc === undefined ? String(imm) : hex(BigInt.asUintN(64, pc + BigInt(imm))));
  switch (op) {
    case Op.ILLEGAL:
      return `illegal 0x${(imm >>> 0).toString(16)}`;
    case Op.LUI:
    case Op.AUIPC:
      return `${name} ${x(rd)}, 0x${(imm >>> 12).toString(16)}`;
    case Op.JAL:
      return `${name} ${x(rd)}, ${target()}`;
    case Op.JALR:
    case Op.LB:
    case Op.LH:
    case Op.LW:
    case Op.LD:
    case Op.LBU:
    case Op.LHU:
    case Op.LWU:
      return `${name} ${x(rd)}, ${imm}(${x(rs1)})`;
    case Op.FLW:
    case Op.FLD:
      return `${name} ${f(rd)}, ${imm}(${x(rs1)})`;
    case Op.SB:
    case Op.SH:
    case Op.SW:
    case Op.SD:
      return `${name} ${x(rs2)}, ${imm}(${x(rs1)})`;
    case Op.FSW:
    case Op.FSD:
      return `${name} ${f(rs2)}, ${imm}(${x(rs1)})`;
    case Op.BEQ:
    case Op.BNE:
    case Op.BLT:
    case Op.BGE:
    case Op.BLTU:
    case Op.BGEU:
      return `${name} ${x(rs1)}, ${x(rs2)}, ${target()}`;
    case Op.ADDI:
    case Op.SLTI:
    case Op.SLTIU:
    case Op.XORI:
    case Op.ORI:
    case Op.ANDI:
    case Op.SLLI:
    case Op.SRLI:
    case Op.SRAI:
    case Op.ADDIW:
    case Op.SLLIW:
    case Op.SRLIW:
    case Op.SRAIW:
    case Op.SLLI_UW:
    case Op.RORI:
    case Op.RORIW:
    case Op.BCLRI:
    case Op.BEXTI:
    case Op.BINVI:
    case Op.BSETI:
      return `${name} ${x(rd)}, ${x(rs1)}, ${imm}`;
    case Op.FENCE:
    case Op.FENCE_I:
    case Op.ECALL:
    case Op.EBREAK:
    case Op.SRET:
    case Op.MRET:
    case Op.WFI:
      return name;
    case Op.SFENCE_VMA:
      return `${name} ${x(rs1)}, ${x(rs2)}`;
    case Op.CSRRW:
    case Op.CSRRS:
    case Op.CSRRC:
      return `${name} ${x(rd)}, ${csrName(imm)}, ${x(rs1)}`;
    case Op.CSRRWI:
    case Op.CSRRSI:
    case Op.CSRRCI:
      return `${name} ${x(rd)}, ${csrName(imm)}, ${rs1}`;
    case Op.LR_W:
    case Op.LR_D:
      return `${name} ${x(rd)}, (${x(rs1)})`;
  }
  if (op >= Op.SC_W && op <= Op.AMOMAXU_D) return `${name} ${x(rd)}, ${x(rs2)}, (${x(rs1)})`;
  if (UNARY.has(op)) return `${name} ${x(rd)}, ${x(rs1)}`;
  if (op < Op.FLW) return `${name} ${x(rd)}, ${x(rs1)}, ${x(rs2)}`;
  // Floating point
  const rm = imm & 7;
  const rmText = rm === 7 ? "" : `, ${ROUNDING[rm]}`;
  if (op >= Op.FMADD_S && op <= Op.FNMADD_D) {
    return `${name} ${f(rd)}, ${f(rs1)}, ${f(rs2)}, ${f(imm >>> 5)}${rmText}`;
  }
  const isCvt = op >= Op.FCVT_W_S && op <= Op.FCVT_D_LU;
  if (FP_TO_X.has(op)) {
    if (op >= Op.FEQ_S && op <= Op.FLE_D) return `${name} ${x(rd)}, ${f(rs1)}, ${f(rs2)}`;
    return `${name} ${x(rd)}, ${f(rs1)}${isCvt ? rmText : ""}`;
  }
  if (X_TO_FP.has(op)) return `${name} ${f(rd)}, ${x(rs1)}${isCvt ? rmText : ""}`;
  if (op === Op.FSQRT_S || op === Op.FSQRT_D || op === Op.FCVT_S_D || op === Op.FCVT_D_S) {
    return `${name} ${f(rd)}, ${f(rs1)}${rmText}`;
  }
  const rounds = (op >= Op.FADD_S && op <= Op.FDIV_S) || (op >= Op.FADD_D && op <= Op.FDIV_D);
  return `${name} ${f(rd)}, ${f(rs1)}, ${f(rs2)}${rounds ? rmText : ""}`;
}
