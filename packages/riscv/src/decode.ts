/**
 * RV64GC / RV32GC instruction decoder: turns one 32-bit or 16-bit instruction
 * into an operation number and operand fields, the form the interpreter caches per
 * physical page and a future block translator would consume.
 *
 * Spec: The RISC-V Instruction Set Manual, Volume I, Unprivileged ISA
 * 20191213 (RV64I ch. 2 and 5, M ch. 7, A ch. 8, F ch. 11, D ch. 12,
 * C ch. 16 with the RVC opcode map in table 16.5, Zicsr ch. 9, Zifencei
 * ch. 3), the Bit-Manipulation ISA-extensions 1.0.0 (Zba, Zbb, Zbs) and the
 * Privileged Architecture 20211203 (1.12) for SRET, MRET, WFI, SFENCE.VMA.
 * Compressed instructions decode straight to the operation of their 32-bit
 * expansion, flagged as 2 bytes long.
 *
 * Packed form, two int32 per instruction:
 *   word 0: op | rd << 8 | rs1 << 14 | rs2 << 20 | (compressed ? 1 << 26 : 0)
 *   word 1: immediate (sign-extended); CSR number for CSR ops; the rounding
 *           mode for FP ops, with rs3 << 5 for the fused multiply-adds; the
 *           instruction's own encoding for ILLEGAL.
 * An integer destination x0 is rewritten to 32, a scratch register the
 * interpreter never reads, so no operation has to test for x0.
 *
 * RV32: registers hold sign-extended 32-bit values, so an RV32 operation
 * decodes to the RV64 "W" operation with the same result (ADD -> ADDW,
 * SLLI -> SLLIW, DIV -> DIVW, CLZ -> CLZW, ...); RV64-only encodings
 * (OP-32, OP-IMM-32, LD/SD/LWU, AMO*.D, 64-bit FP conversions, shamt[5] = 1)
 * are illegal, and the RV32 compressed forms (C.JAL, C.FLW, C.FSW, C.FLWSP,
 * C.FSWSP) replace the RV64 ones.
 *
 * Deviation: HINT encodings decode as the operation they alias (e.g. c.addi
 * with rd = x0), which has no architectural effect, as the spec allows.
 */
import { COMPRESSED, Op } from "./interp.js";

/** Stores the packed form; returns word 0. */
function pack(
  out: Int32Array,
  at: number,
  op: Op,
  rd: number,
  rs1: number,
  rs2: number,
  imm: number,
  c: number,
): number {
  const word = op | (rd << 8) | (rs1 << 14) | (rs2 << 20) | c;
  out[at] = word;
  out[at + 1] = imm;
  return word;
}

function illegal(out: Int32Array, at: number, c: number): number {
  return pack(out, at, Op.ILLEGAL, 0, 0, 0, 0, c);
}

/** Integer destination: x0 becomes the scratch register 32. */
const xd = (r: number): number => (r === 0 ? 32 : r);

const LOADS = [Op.LB, Op.LH, Op.LW, Op.LD, Op.LBU, Op.LHU, Op.LWU, Op.ILLEGAL];
const STORES = [Op.SB, Op.SH, Op.SW, Op.SD];
const BRANCHES = [Op.BEQ, Op.BNE, Op.ILLEGAL, Op.ILLEGAL, Op.BLT, Op.BGE, Op.BLTU, Op.BGEU];
const OP_IMM = [Op.ADDI, Op.SLLI, Op.SLTI, Op.SLTIU, Op.XORI, Op.SRLI, Op.ORI, Op.ANDI];
const OP_REG = [Op.ADD, Op.SLL, Op.SLT, Op.SLTU, Op.XOR, Op.SRL, Op.OR, Op.AND];
const OP_MUL = [Op.MUL, Op.MULH, Op.MULHSU, Op.MULHU, Op.DIV, Op.DIVU, Op.REM, Op.REMU];
const OP_MULW = [Op.MULW, Op.ILLEGAL, Op.ILLEGAL, Op.ILLEGAL, Op.DIVW, Op.DIVUW, Op.REMW, Op.REMUW];
const CSR_OPS = [Op.ILLEGAL, Op.CSRRW, Op.CSRRS, Op.CSRRC, Op.ILLEGAL, Op.CSRRWI, Op.CSRRSI, Op.CSRRCI];
/** AMO funct5 -> word op; the doubleword op is `op + (Op.LR_D - Op.LR_W)`. */
const AMO_W: Record<number, Op> = {
  2: Op.LR_W,
  3: Op.SC_W,
  1: Op.AMOSWAP_W,
  0: Op.AMOADD_W,
  4: Op.AMOXOR_W,
  12: Op.AMOAND_W,
  8: Op.AMOOR_W,
  16: Op.AMOMIN_W,
  20: Op.AMOMAX_W,
  24: Op.AMOMINU_W,
  28: Op.AMOMAXU_W,
};

/** Decodes a 32-bit instruction (low two bits 11). */
function decode32(insn: number, out: Int32Array, at: number): number {
  const rd = (insn >>> 7) & 31;
  const rs1 = (insn >>> 15) & 31;
  const rs2 = (insn >>> 20) & 31;
  const f3 = (insn >>> 12) & 7;
  const f7 = insn >>> 25;
  const immI = insn >> 20;
  switch (insn & 0x7f) {
    case 0x37: // LUI
      return pack(out, at, Op.LUI, xd(rd), 0, 0, insn & 0xfffff000, 0);
    case 0x17: // AUIPC
      return pack(out, at, Op.AUIPC, xd(rd), 0, 0, insn & 0xfffff000, 0);
    case 0x6f: {
      const imm =
        ((insn >> 31) << 20) |
        (insn & 0xff000) |
        (((insn >>> 20) & 1) << 11) |
        (((insn >>> 21) & 0x3ff) << 1);
      return pack(out, at, Op.JAL, xd(rd), 0, 0, imm, 0);
    }
    case 0x67:
      if (f3 !== 0) return illegal(out, at, 0);
      return pack(out, at, Op.JALR, xd(rd), rs1, 0, immI, 0);
    case 0x63: {
      const op = BRANCHES[f3];
      const imm =
        ((insn >> 31) << 12) |
        (((insn >>> 7) & 1) << 11) |
        (((insn >>> 25) & 0x3f) << 5) |
        (((insn >>> 8) & 15) << 1);
      return pack(out, at, op, 0, rs1, rs2, imm, 0);
    }
    case 0x03:
      return pack(out, at, LOADS[f3], xd(rd), rs1, 0, immI, 0);
    case 0x23: {
      if (f3 > 3) return illegal(out, at, 0);
      const imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
      return pack(out, at, STORES[f3], 0, rs1, rs2, imm, 0);
    }
    case 0x13: {
      let op = OP_IMM[f3];
      let imm = immI;
      if (f3 === 1 || f3 === 5) {
        const f6 = insn >>> 26;
        imm = (insn >>> 20) & 63;
        if (f3 === 1) {
          if (f6 === 0) op = Op.SLLI;
          else if (f6 === 0b010010) op = Op.BCLRI;
          else if (f6 === 0b011010) op = Op.BINVI;
          else if (f6 === 0b001010) op = Op.BSETI;
          else if (f7 === 0b0110000 && rs2 === 0) op = Op.CLZ;
          else if (f7 === 0b0110000 && rs2 === 1) op = Op.CTZ;
          else if (f7 === 0b0110000 && rs2 === 2) op = Op.CPOP;
          else if (f7 === 0b0110000 && rs2 === 4) op = Op.SEXT_B;
          else if (f7 === 0b0110000 && rs2 === 5) op = Op.SEXT_H;
          else return illegal(out, at, 0);
        } else if (f6 === 0) op = Op.SRLI;
        else if (f6 === 0b010000) op = Op.SRAI;
        else if (f6 === 0b011000) op = Op.RORI;
        else if (f6 === 0b010010) op = Op.BEXTI;
        else if (insn >>> 20 === 0b001010000111) op = Op.ORC_B;
        else if (insn >>> 20 === 0b011010111000) op = Op.REV8;
        else return illegal(out, at, 0);
      }
      return pack(out, at, op, xd(rd), rs1, 0, imm, 0);
    }
    case 0x1b: {
      // OP-IMM-32
      if (f3 === 0) return pack(out, at, Op.ADDIW, xd(rd), rs1, 0, immI, 0);
      const shamt = rs2;
      if (f3 === 1) {
        if (f7 === 0) return pack(out, at, Op.SLLIW, xd(rd), rs1, 0, shamt, 0);
        if (f7 === 0b0110000) {
          const op = rs2 === 0 ? Op.CLZW : rs2 === 1 ? Op.CTZW : rs2 === 2 ? Op.CPOPW : Op.ILLEGAL;
          return pack(out, at, op, xd(rd), rs1, 0, 0, 0);
        }
        if (insn >>> 26 === 0b000010) return pack(out, at, Op.SLLI_UW, xd(rd), rs1, 0, (insn >>> 20) & 63, 0);
        return illegal(out, at, 0);
      }
      if (f3 === 5) {
        if (f7 === 0) return pack(out, at, Op.SRLIW, xd(rd), rs1, 0, shamt, 0);
        if (f7 === 0b0100000) return pack(out, at, Op.SRAIW, xd(rd), rs1, 0, shamt, 0);
        if (f7 === 0b0110000) return pack(out, at, Op.RORIW, xd(rd), rs1, 0, shamt, 0);
      }
      return illegal(out, at, 0);
    }
    case 0x33: {
      let op: Op = Op.ILLEGAL;
      if (f7 === 0) op = OP_REG[f3];
      else if (f7 === 1) op = OP_MUL[f3];
      else if (f7 === 0b0100000)
        op =
          f3 === 0
            ? Op.SUB
            : f3 === 5
              ? Op.SRA
              : f3 === 7
                ? Op.ANDN
                : f3 === 6
                  ? Op.ORN
                  : f3 === 4
                    ? Op.XNOR
                    : Op.ILLEGAL;
      else if (f7 === 0b0010000)
        op = f3 === 2 ? Op.SH1ADD : f3 === 4 ? Op.SH2ADD : f3 === 6 ? Op.SH3ADD : Op.ILLEGAL;
      else if (f7 === 0b0000101)
        op = [Op.ILLEGAL, Op.ILLEGAL, Op.ILLEGAL, Op.ILLEGAL, Op.MIN, Op.MINU, Op.MAX, Op.MAXU][f3];
      else if (f7 === 0b0110000) op = f3 === 1 ? Op.ROL : f3 === 5 ? Op.ROR : Op.ILLEGAL;
      else if (f7 === 0b0100100) op = f3 === 1 ? Op.BCLR : f3 === 5 ? Op.BEXT : Op.ILLEGAL;
      else if (f7 === 0b0110100) op = f3 === 1 ? Op.BINV : Op.ILLEGAL;
      else if (f7 === 0b0010100) op = f3 === 1 ? Op.BSET : Op.ILLEGAL;
      return pack(out, at, op, xd(rd), rs1, rs2, 0, 0);
    }
    case 0x3b: {
      let op: Op = Op.ILLEGAL;
      if (f7 === 0) op = f3 === 0 ? Op.ADDW : f3 === 1 ? Op.SLLW : f3 === 5 ? Op.SRLW : Op.ILLEGAL;
      else if (f7 === 0b0100000) op = f3 === 0 ? Op.SUBW : f3 === 5 ? Op.SRAW : Op.ILLEGAL;
      else if (f7 === 1) op = OP_MULW[f3];
      else if (f7 === 0b0000100) op = f3 === 0 ? Op.ADD_UW : f3 === 4 && rs2 === 0 ? Op.ZEXT_H : Op.ILLEGAL;
      else if (f7 === 0b0010000)
        op = f3 === 2 ? Op.SH1ADD_UW : f3 === 4 ? Op.SH2ADD_UW : f3 === 6 ? Op.SH3ADD_UW : Op.ILLEGAL;
      else if (f7 === 0b0110000) op = f3 === 1 ? Op.ROLW : f3 === 5 ? Op.RORW : Op.ILLEGAL;
      return pack(out, at, op, xd(rd), rs1, rs2, 0, 0);
    }
    case 0x0f:
      if (f3 === 0) return pack(out, at, Op.FENCE, 0, 0, 0, 0, 0);
      if (f3 === 1) return pack(out, at, Op.FENCE_I, 0, 0, 0, 0, 0);
      return illegal(out, at, 0);
    case 0x73: {
      if (f3 !== 0) {
        const op = CSR_OPS[f3];
        return pack(out, at, op, xd(rd), rs1, 0, insn >>> 20, 0);
      }
      if (insn === 0x00000073) return pack(out, at, Op.ECALL, 0, 0, 0, 0, 0);
      if (insn === 0x00100073) return pack(out, at, Op.EBREAK, 0, 0, 0, 0, 0);
      if (insn === 0x10200073) return pack(out, at, Op.SRET, 0, 0, 0, 0, 0);
      if (insn === 0x30200073) return pack(out, at, Op.MRET, 0, 0, 0, 0, 0);
      if (insn === 0x10500073) return pack(out, at, Op.WFI, 0, 0, 0, 0, 0);
      if (f7 === 0b0001001 && rd === 0) return pack(out, at, Op.SFENCE_VMA, 0, rs1, rs2, 0, 0);
      return illegal(out, at, 0);
    }
    case 0x2f: {
      const base = AMO_W[insn >>> 27];
      if (base === undefined || (f3 !== 2 && f3 !== 3)) return illegal(out, at, 0);
      if (base === Op.LR_W && rs2 !== 0) return illegal(out, at, 0);
      const op = f3 === 3 ? base + (Op.LR_D - Op.LR_W) : base;
      return pack(out, at, op, xd(rd), rs1, rs2, 0, 0);
    }
    case 0x07: // LOAD-FP
      if (f3 === 2) return pack(out, at, Op.FLW, rd, rs1, 0, immI, 0);
      if (f3 === 3) return pack(out, at, Op.FLD, rd, rs1, 0, immI, 0);
      return illegal(out, at, 0);
    case 0x27: {
      const imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
      if (f3 === 2) return pack(out, at, Op.FSW, 0, rs1, rs2, imm, 0);
      if (f3 === 3) return pack(out, at, Op.FSD, 0, rs1, rs2, imm, 0);
      return illegal(out, at, 0);
    }
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: {
      const fmt = (insn >>> 25) & 3;
      if (fmt > 1) return illegal(out, at, 0);
      const which = ((insn & 0x7f) - 0x43) >> 2; // 0 madd, 1 msub, 2 nmsub, 3 nmadd
      const op = (fmt === 0 ? Op.FMADD_S : Op.FMADD_D) + which;
      return pack(out, at, op, rd, rs1, rs2, f3 | ((insn >>> 27) << 5), 0);
    }
    case 0x53:
      return decodeOpFp(insn, out, at, rd, rs1, rs2, f3);
  }
  return illegal(out, at, 0);
}

function decodeOpFp(
  insn: number,
  out: Int32Array,
  at: number,
  rd: number,
  rs1: number,
  rs2: number,
  rm: number,
): number {
  const f7 = insn >>> 25;
  const d = f7 & 1; // fmt: 0 = S, 1 = D (bit 26 is 0 for both)
  if (f7 & 2) return illegal(out, at, 0);
  const pick = (s: Op, dd: Op): Op => (d ? dd : s);
  switch (f7 >>> 2) {
    case 0b00000:
      return pack(out, at, pick(Op.FADD_S, Op.FADD_D), rd, rs1, rs2, rm, 0);
    case 0b00001:
      return pack(out, at, pick(Op.FSUB_S, Op.FSUB_D), rd, rs1, rs2, rm, 0);
    case 0b00010:
      return pack(out, at, pick(Op.FMUL_S, Op.FMUL_D), rd, rs1, rs2, rm, 0);
    case 0b00011:
      return pack(out, at, pick(Op.FDIV_S, Op.FDIV_D), rd, rs1, rs2, rm, 0);
    case 0b01011:
      if (rs2 !== 0) break;
      return pack(out, at, pick(Op.FSQRT_S, Op.FSQRT_D), rd, rs1, 0, rm, 0);
    case 0b00100:
      if (rm > 2) break;
      return pack(out, at, pick(Op.FSGNJ_S, Op.FSGNJ_D) + rm, rd, rs1, rs2, 0, 0);
    case 0b00101:
      if (rm > 1) break;
      return pack(out, at, pick(Op.FMIN_S, Op.FMIN_D) + rm, rd, rs1, rs2, 0, 0);
    case 0b01000:
      if (d === 0 && rs2 === 1) return pack(out, at, Op.FCVT_S_D, rd, rs1, 0, rm, 0);
      if (d === 1 && rs2 === 0) return pack(out, at, Op.FCVT_D_S, rd, rs1, 0, rm, 0);
      break;
    case 0b10100:
      if (rm > 2) break;
      return pack(
        out,
        at,
        [pick(Op.FLE_S, Op.FLE_D), pick(Op.FLT_S, Op.FLT_D), pick(Op.FEQ_S, Op.FEQ_D)][rm],
        xd(rd),
        rs1,
        rs2,
        0,
        0,
      );
    case 0b11000:
      if (rs2 > 3) break;
      return pack(out, at, pick(Op.FCVT_W_S, Op.FCVT_W_D) + rs2, xd(rd), rs1, 0, rm, 0);
    case 0b11010:
      if (rs2 > 3) break;
      return pack(out, at, pick(Op.FCVT_S_W, Op.FCVT_D_W) + rs2, rd, rs1, 0, rm, 0);
    case 0b11100:
      if (rs2 !== 0) break;
      if (rm === 0) return pack(out, at, pick(Op.FMV_X_W, Op.FMV_X_D), xd(rd), rs1, 0, 0, 0);
      if (rm === 1) return pack(out, at, pick(Op.FCLASS_S, Op.FCLASS_D), xd(rd), rs1, 0, 0, 0);
      break;
    case 0b11110:
      if (rs2 !== 0 || rm !== 0) break;
      return pack(out, at, pick(Op.FMV_W_X, Op.FMV_D_X), rd, rs1, 0, 0, 0);
  }
  return illegal(out, at, 0);
}

/** Decodes a 16-bit compressed instruction (low two bits not 11). */
function decode16(h: number, out: Int32Array, at: number): number {
  const C = COMPRESSED;
  const f3 = h >>> 13;
  const rdp = 8 + ((h >>> 2) & 7); // rd' / rs2'
  const rs1p = 8 + ((h >>> 7) & 7); // rs1' / rd'
  const rd = (h >>> 7) & 31;
  const rs2 = (h >>> 2) & 31;
  const imm6 = (((h << 19) >> 31) << 5) | ((h >>> 2) & 31); // sign-extended imm[5] = bit 12, imm[4:0] = bits 6:2
  const uimmD = (((h >>> 10) & 7) << 3) | (((h >>> 5) & 3) << 6); // C.LD/C.SD/C.FLD/C.FSD
  const uimmW = (((h >>> 10) & 7) << 3) | (((h >>> 6) & 1) << 2) | (((h >>> 5) & 1) << 6); // C.LW/C.SW
  switch (((h & 3) << 3) | f3) {
    // Quadrant 0
    case 0: {
      const nzuimm =
        (((h >>> 11) & 3) << 4) | (((h >>> 7) & 15) << 6) | (((h >>> 6) & 1) << 2) | (((h >>> 5) & 1) << 3);
      if (nzuimm === 0) return illegal(out, at, C);
      return pack(out, at, Op.ADDI, rdp, 2, 0, nzuimm, C);
    }
    case 1:
      return pack(out, at, Op.FLD, rdp, rs1p, 0, uimmD, C);
    case 2:
      return pack(out, at, Op.LW, rdp, rs1p, 0, uimmW, C);
    case 3:
      return pack(out, at, Op.LD, rdp, rs1p, 0, uimmD, C);
    case 5:
      return pack(out, at, Op.FSD, 0, rs1p, rdp, uimmD, C);
    case 6:
      return pack(out, at, Op.SW, 0, rs1p, rdp, uimmW, C);
    case 7:
      return pack(out, at, Op.SD, 0, rs1p, rdp, uimmD, C);
    // Quadrant 1
    case 8: // C.ADDI (C.NOP when rd = 0)
      return pack(out, at, Op.ADDI, xd(rd), rd, 0, imm6, C);
    case 9: // C.ADDIW
      if (rd === 0) return illegal(out, at, C);
      return pack(out, at, Op.ADDIW, rd, rd, 0, imm6, C);
    case 10: // C.LI
      return pack(out, at, Op.ADDI, xd(rd), 0, 0, imm6, C);
    case 11: {
      if (rd === 2) {
        const nz =
          ((h << 19) >> 31) * 512 +
          (((h >>> 6) & 1) << 4) +
          (((h >>> 5) & 1) << 6) +
          (((h >>> 3) & 3) << 7) +
          (((h >>> 2) & 1) << 5);
        if (nz === 0) return illegal(out, at, C);
        return pack(out, at, Op.ADDI, 2, 2, 0, nz, C);
      }
      if (imm6 === 0) return illegal(out, at, C);
      return pack(out, at, Op.LUI, xd(rd), 0, 0, imm6 << 12, C);
    }
    case 12: {
      const f2 = (h >>> 10) & 3;
      if (f2 === 0) return pack(out, at, Op.SRLI, rs1p, rs1p, 0, imm6 & 63, C);
      if (f2 === 1) return pack(out, at, Op.SRAI, rs1p, rs1p, 0, imm6 & 63, C);
      if (f2 === 2) return pack(out, at, Op.ANDI, rs1p, rs1p, 0, imm6, C);
      const f = (h >>> 5) & 3;
      if ((h & 0x1000) === 0) return pack(out, at, [Op.SUB, Op.XOR, Op.OR, Op.AND][f], rs1p, rs1p, rdp, 0, C);
      if (f === 0) return pack(out, at, Op.SUBW, rs1p, rs1p, rdp, 0, C);
      if (f === 1) return pack(out, at, Op.ADDW, rs1p, rs1p, rdp, 0, C);
      return illegal(out, at, C);
    }
    case 13: {
      const imm =
        ((h << 19) >> 31) * 2048 +
        (((h >>> 11) & 1) << 4) +
        (((h >>> 9) & 3) << 8) +
        (((h >>> 8) & 1) << 10) +
        (((h >>> 7) & 1) << 6) +
        (((h >>> 6) & 1) << 7) +
        (((h >>> 3) & 7) << 1) +
        (((h >>> 2) & 1) << 5);
      return pack(out, at, Op.JAL, 32, 0, 0, imm, C);
    }
    case 14:
    case 15: {
      const imm =
        ((h << 19) >> 31) * 256 +
        (((h >>> 10) & 3) << 3) +
        (((h >>> 5) & 3) << 6) +
        (((h >>> 3) & 3) << 1) +
        (((h >>> 2) & 1) << 5);
      return pack(out, at, f3 === 6 ? Op.BEQ : Op.BNE, 0, rs1p, 0, imm, C);
    }
    // Quadrant 2
    case 16:
      return pack(out, at, Op.SLLI, xd(rd), rd, 0, imm6 & 63, C);
    case 17: {
      const uimm = (((h >>> 12) & 1) << 5) | (((h >>> 5) & 3) << 3) | (((h >>> 2) & 7) << 6);
      return pack(out, at, Op.FLD, rd, 2, 0, uimm, C);
    }
    case 18: {
      if (rd === 0) return illegal(out, at, C);
      const uimm = (((h >>> 12) & 1) << 5) | (((h >>> 4) & 7) << 2) | (((h >>> 2) & 3) << 6);
      return pack(out, at, Op.LW, rd, 2, 0, uimm, C);
    }
    case 19: {
      if (rd === 0) return illegal(out, at, C);
      const uimm = (((h >>> 12) & 1) << 5) | (((h >>> 5) & 3) << 3) | (((h >>> 2) & 7) << 6);
      return pack(out, at, Op.LD, rd, 2, 0, uimm, C);
    }
    case 20:
      if ((h & 0x1000) === 0) {
        if (rs2 === 0) {
          if (rd === 0) return illegal(out, at, C);
          return pack(out, at, Op.JALR, 32, rd, 0, 0, C); // C.JR
        }
        return pack(out, at, Op.ADD, xd(rd), 0, rs2, 0, C); // C.MV
      }
      if (rs2 === 0) {
        if (rd === 0) return pack(out, at, Op.EBREAK, 0, 0, 0, 0, C);
        return pack(out, at, Op.JALR, 1, rd, 0, 0, C); // C.JALR
      }
      return pack(out, at, Op.ADD, xd(rd), rd, rs2, 0, C);
    case 21: {
      const uimm = (((h >>> 10) & 7) << 3) | (((h >>> 7) & 7) << 6);
      return pack(out, at, Op.FSD, 0, 2, rs2, uimm, C);
    }
    case 22: {
      const uimm = (((h >>> 9) & 15) << 2) | (((h >>> 7) & 3) << 6);
      return pack(out, at, Op.SW, 0, 2, rs2, uimm, C);
    }
    case 23: {
      const uimm = (((h >>> 10) & 7) << 3) | (((h >>> 7) & 7) << 6);
      return pack(out, at, Op.SD, 0, 2, rs2, uimm, C);
    }
  }
  return illegal(out, at, C);
}

/** RV32: the RV64 operation computing the same sign-extended 32-bit result. */
export const RV32_OP: ReadonlyMap<Op, Op> = new Map<Op, Op>([
  [Op.ADDI, Op.ADDIW],
  [Op.SLLI, Op.SLLIW],
  [Op.SRLI, Op.SRLIW],
  [Op.SRAI, Op.SRAIW],
  [Op.ADD, Op.ADDW],
  [Op.SUB, Op.SUBW],
  [Op.SLL, Op.SLLW],
  [Op.SRL, Op.SRLW],
  [Op.SRA, Op.SRAW],
  [Op.MUL, Op.MULW],
  [Op.DIV, Op.DIVW],
  [Op.DIVU, Op.DIVUW],
  [Op.REM, Op.REMW],
  [Op.REMU, Op.REMUW],
  [Op.CLZ, Op.CLZW],
  [Op.CTZ, Op.CTZW],
  [Op.CPOP, Op.CPOPW],
  [Op.ROL, Op.ROLW],
  [Op.ROR, Op.RORW],
  [Op.RORI, Op.RORIW],
]);
/** Immediate-shift operations whose shamt must be below 32 on RV32. */
const SHAMT_OPS = new Set<Op>([Op.SLLI, Op.SRLI, Op.SRAI, Op.RORI, Op.BCLRI, Op.BSETI, Op.BINVI, Op.BEXTI]);
/** Operations that exist only on RV64. */
const RV64_ONLY = new Set<Op>([
  Op.LD,
  Op.SD,
  Op.LWU,
  Op.FCVT_L_S,
  Op.FCVT_LU_S,
  Op.FCVT_L_D,
  Op.FCVT_LU_D,
  Op.FCVT_S_L,
  Op.FCVT_S_LU,
  Op.FCVT_D_L,
  Op.FCVT_D_LU,
  Op.FMV_X_D,
  Op.FMV_D_X,
]);

/** RV32 re-decoding of the encodings whose meaning differs from RV64. */
function decodeRv32(raw: number, out: Int32Array, at: number): void {
  const C = COMPRESSED;
  if ((raw & 3) !== 3) {
    const q = ((raw & 3) << 3) | (raw >>> 13);
    const rdp = 8 + ((raw >>> 2) & 7);
    const rs1p = 8 + ((raw >>> 7) & 7);
    const rd = (raw >>> 7) & 31;
    const uimmW = (((raw >>> 10) & 7) << 3) | (((raw >>> 6) & 1) << 2) | (((raw >>> 5) & 1) << 6);
    if (q === 3) pack(out, at, Op.FLW, rdp, rs1p, 0, uimmW, C);
    else if (q === 7) pack(out, at, Op.FSW, 0, rs1p, rdp, uimmW, C);
    else if (q === 9) {
      decode16((raw & ~0xe000) | 0xa000, out, at); // C.JAL has C.J's offset format
      out[at] = (out[at] & ~(63 << 8)) | (1 << 8);
    } else if (q === 19) {
      const uimm = (((raw >>> 12) & 1) << 5) | (((raw >>> 4) & 7) << 2) | (((raw >>> 2) & 3) << 6);
      pack(out, at, Op.FLW, rd, 2, 0, uimm, C);
    } else if (q === 23) {
      const uimm = (((raw >>> 9) & 15) << 2) | (((raw >>> 7) & 3) << 6);
      pack(out, at, Op.FSW, 0, 2, (raw >>> 2) & 31, uimm, C);
    } else if (q === 12 && (raw & 0x1000) !== 0 && ((raw >>> 10) & 3) === 3) illegal(out, at, C); // C.SUBW/C.ADDW
    return;
  }
  const opcode = raw & 0x7f;
  const f3 = (raw >>> 12) & 7;
  if (opcode === 0x1b || opcode === 0x3b || (opcode === 0x2f && f3 === 3)) illegal(out, at, 0);
  else if (opcode === 0x33 && raw >>> 25 === 0b0000100 && f3 === 4 && ((raw >>> 20) & 31) === 0) {
    pack(out, at, Op.ZEXT_H, xd((raw >>> 7) & 31), (raw >>> 15) & 31, 0, 0, 0);
  } else if (opcode === 0x13 && f3 === 5 && raw >>> 20 === 0b011010011000) {
    pack(out, at, Op.REV8, xd((raw >>> 7) & 31), (raw >>> 15) & 31, 0, 0, 0);
  }
}

/**
 * Decodes the instruction whose low bits are in `insn` (a 16-bit instruction
 * needs only the low half) into `out[at]`, `out[at + 1]`, for RV64 or, with
 * `rv32`, RV32.
 */
export function decode(insn: number, out: Int32Array, at: number, rv32 = false): void {
  const raw = (insn & 3) === 3 ? insn | 0 : insn & 0xffff;
  if ((insn & 3) === 3) decode32(raw, out, at);
  else decode16(raw, out, at);
  if (rv32) {
    decodeRv32(raw, out, at);
    const op = (out[at] & 0xff) as Op;
    if (RV64_ONLY.has(op) || (SHAMT_OPS.has(op) && out[at + 1] >= 32)) illegal(out, at, out[at] & COMPRESSED);
    else {
      const mapped = RV32_OP.get(op);
      if (mapped !== undefined) out[at] = (out[at] & ~0xff) | mapped;
    }
  }
  // An illegal instruction carries its own encoding, which becomes mtval/stval.
  if ((out[at] & 0xff) === Op.ILLEGAL) out[at + 1] = raw;
}
