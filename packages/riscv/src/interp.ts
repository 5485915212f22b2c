/**
 * The interpreter loop of the hart and the operation numbers it dispatches
 * on. They share this file so that the `switch` sees literal case labels
 * (esbuild inlines enum members within a file), which V8 compiles to a jump
 * table; decode.ts and disasm.ts import the enum from here.
 *
 * `Interpreter.execute` runs decoded instructions from the current code
 * page with loads and stores through the software TLBs; everything rarer
 * (faults, TLB misses, CSRs, privileged and floating-point instructions) is
 * left to the abstract slow paths the hart implements. A block translator
 * would take the place of `execute` and reuse the same slow paths.
 *
 * Deviation: aligned 32/64-bit loads and stores go through the block's
 * Int32Array, which assumes a little-endian host (every current JavaScript
 * engine); misaligned ones use the DataView.
 */
import type { MemoryBlock, Ram } from "@backplane/memory";
import { CAUSE_ILLEGAL_INSTRUCTION } from "./csr.js";

export enum Op {
  UNDECODED,
  ILLEGAL,
  LUI,
  AUIPC,
  JAL,
  JALR,
  BEQ,
  BNE,
  BLT,
  BGE,
  BLTU,
  BGEU,
  LB,
  LH,
  LW,
  LD,
  LBU,
  LHU,
  LWU,
  SB,
  SH,
  SW,
  SD,
  ADDI,
  SLTI,
  SLTIU,
  XORI,
  ORI,
  ANDI,
  SLLI,
  SRLI,
  SRAI,
  ADD,
  SUB,
  SLL,
  SLT,
  SLTU,
  XOR,
  SRL,
  SRA,
  OR,
  AND,
  ADDIW,
  SLLIW,
  SRLIW,
  SRAIW,
  ADDW,
  SUBW,
  SLLW,
  SRLW,
  SRAW,
  FENCE,
  FENCE_I,
  ECALL,
  EBREAK,
  SRET,
  MRET,
  WFI,
  SFENCE_VMA,
  CSRRW,
  CSRRS,
  CSRRC,
  CSRRWI,
  CSRRSI,
  CSRRCI,
  MUL,
  MULH,
  MULHSU,
  MULHU,
  DIV,
  DIVU,
  REM,
  REMU,
  MULW,
  DIVW,
  DIVUW,
  REMW,
  REMUW,
  LR_W,
  SC_W,
  AMOSWAP_W,
  AMOADD_W,
  AMOXOR_W,
  AMOAND_W,
  AMOOR_W,
  AMOMIN_W,
  AMOMAX_W,
  AMOMINU_W,
  AMOMAXU_W,
  LR_D,
  SC_D,
  AMOSWAP_D,
  AMOADD_D,
  AMOXOR_D,
  AMOAND_D,
  AMOOR_D,
  AMOMIN_D,
  AMOMAX_D,
  AMOMINU_D,
  AMOMAXU_D,
  // Zba
  SH1ADD,
  SH2ADD,
  SH3ADD,
  ADD_UW,
  SH1ADD_UW,
  SH2ADD_UW,
  SH3ADD_UW,
  SLLI_UW,
  // Zbb
  ANDN,
  ORN,
  XNOR,
  CLZ,
  CTZ,
  CPOP,
  CLZW,
  CTZW,
  CPOPW,
  MAX,
  MAXU,
  MIN,
  MINU,
  SEXT_B,
  SEXT_H,
  ZEXT_H,
  ROL,
  ROR,
  RORI,
  ROLW,
  RORW,
  RORIW,
  ORC_B,
  REV8,
  // Zbs
  BCLR,
  BCLRI,
  BEXT,
  BEXTI,
  BINV,
  BINVI,
  BSET,
  BSETI,
  // F and D: loads/stores, then operations (imm holds rm, or rs3 | rm << 5)
  FLW,
  FLD,
  FSW,
  FSD,
  FMADD_S,
  FMSUB_S,
  FNMSUB_S,
  FNMADD_S,
  FMADD_D,
  FMSUB_D,
  FNMSUB_D,
  FNMADD_D,
  FADD_S,
  FSUB_S,
  FMUL_S,
  FDIV_S,
  FSQRT_S,
  FSGNJ_S,
  FSGNJN_S,
  FSGNJX_S,
  FMIN_S,
  FMAX_S,
  FADD_D,
  FSUB_D,
  FMUL_D,
  FDIV_D,
  FSQRT_D,
  FSGNJ_D,
  FSGNJN_D,
  FSGNJX_D,
  FMIN_D,
  FMAX_D,
  FCVT_S_D,
  FCVT_D_S,
  FEQ_S,
  FLT_S,
  FLE_S,
  FEQ_D,
  FLT_D,
  FLE_D,
  FCLASS_S,
  FCLASS_D,
  FCVT_W_S,
  FCVT_WU_S,
  FCVT_L_S,
  FCVT_LU_S,
  FCVT_W_D,
  FCVT_WU_D,
  FCVT_L_D,
  FCVT_LU_D,
  FCVT_S_W,
  FCVT_S_WU,
  FCVT_S_L,
  FCVT_S_LU,
  FCVT_D_W,
  FCVT_D_WU,
  FCVT_D_L,
  FCVT_D_LU,
  FMV_X_W,
  FMV_W_X,
  FMV_X_D,
  FMV_D_X,
}

/** Bit 26 of a decoded word 0: the instruction is 2 bytes long (see decode.ts). */
export const COMPRESSED = 1 << 26;
export const TLB_SIZE = 256;
export const TLB_MASK = TLB_SIZE - 1;
export const TWO32 = 4294967296;
/** Access size of each integer load and store operation. */
const LOAD_SIZE: Record<number, number> = {
  [Op.LB]: 1,
  [Op.LBU]: 1,
  [Op.LH]: 2,
  [Op.LHU]: 2,
  [Op.LW]: 4,
  [Op.LWU]: 4,
  [Op.LD]: 8,
};
const STORE_SIZE: Record<number, number> = { [Op.SB]: 1, [Op.SH]: 2, [Op.SW]: 4, [Op.SD]: 8 };

const EMPTY_CODE = new Int32Array(0);

/** Pages of the virtual address space mapped straight to host memory. */
export class Tlb {
  readonly tagLo = new Int32Array(TLB_SIZE).fill(-1);
  readonly tagHi = new Int32Array(TLB_SIZE);
  readonly off = new Int32Array(TLB_SIZE);
  readonly ppn = new Float64Array(TLB_SIZE);
  readonly view: DataView[];
  /** Aligned 32-bit view of the same block, for aligned accesses (hosts are little-endian). */
  readonly words: Int32Array[];
  /** Fetch TLB only: the decoded-instruction page of the entry's physical page. */
  readonly code: Int32Array[];
  readonly block: MemoryBlock[];
  constructor(dummy: MemoryBlock) {
    this.view = new Array<DataView>(TLB_SIZE).fill(dummy.view);
    this.words = new Array<Int32Array>(TLB_SIZE).fill(dummy.words);
    this.code = new Array<Int32Array>(TLB_SIZE).fill(EMPTY_CODE);
    this.block = new Array<MemoryBlock>(TLB_SIZE).fill(dummy);
  }
  flush(): void {
    this.tagLo.fill(-1);
  }
}

/** Registers, the current code page and the inner loop of a hart. */
export abstract class Interpreter {
  /** Low 32 bits of x0..x31; index 32 is a write-only scratch for rd = x0. */
  readonly xl = new Int32Array(33);
  /** High 32 bits of x0..x31 (and the scratch). */
  readonly xh = new Int32Array(33);
  /** Starts as NaN so V8 gives the field a double representation from the first store. */
  protected pcValue = Number.NaN;
  /** Retired instructions (also the cycle count); -0 gives the field a double representation. */
  protected instret = -0;
  /** Decoded slots of the page holding the pc, its virtual base and host bytes. */
  protected code: Int32Array = new Int32Array(4096);
  protected codeBase = Number.NaN;
  /** Result of a slow-path load: raw bits, low and high words. */
  protected vLo = 0;
  protected vHi = 0;
  protected abstract readonly rv32: boolean;
  protected abstract rtlb: Tlb;
  protected abstract wtlb: Tlb;

  /** Makes the page holding `pc` the current code page; false after raising a fetch fault. */
  protected abstract fetchPage(pc: number): boolean;
  /** Decodes the slot at `off` of the current code page; the array holding it, or undefined after a fault. */
  protected abstract decodeSlot(pc: number, off: number): Int32Array | undefined;
  /** Slow-path load into vLo/vHi; false after raising a fault. */
  protected abstract load(lo: number, hi: number, size: number): boolean;
  /** Slow-path store; false after raising a fault. */
  protected abstract store(lo: number, hi: number, size: number, vlo: number, vhi: number): boolean;
  /** Every operation outside the hot switch; false after raising a trap. */
  protected abstract executeRare(
    op: number,
    rd: number,
    rs1: number,
    rs2: number,
    imm: number,
    next: number,
  ): boolean;
  protected abstract trap(cause: number, interrupt: boolean, tval: bigint): void;

  /** Executes up to `budget` instructions; returns how many ran (a trap counts as one). */
  protected execute(budget: number): number {
    const xl = this.xl;
    const xh = this.xh;
    const rt = this.rtlb;
    const rTagLo = rt.tagLo;
    const rTagHi = rt.tagHi;
    const rOff = rt.off;
    const rView = rt.view;
    const rWords = rt.words;
    const wt = this.wtlb;
    const wTagLo = wt.tagLo;
    const wTagHi = wt.tagHi;
    const wOff = wt.off;
    const wView = wt.view;
    const wWords = wt.words;
    const wBlock = wt.block;
    const rv32 = this.rv32;
    /** High word of a virtual address: RV32 addresses are the low 32 bits, unsigned. */
    const hiMask = rv32 ? 0 : -1;
    let pc = this.pcValue;
    let code = this.code;
    let codeBase = this.codeBase;
    let n = 0;
    /** Instructions of this call already added to instret. */
    let retired = 0;
    while (n < budget) {
      let off = pc - codeBase;
      if (!(off >= 0 && off < 4096)) {
        this.pcValue = pc;
        if (!this.fetchPage(pc)) {
          this.instret += n - retired;
          return n + 1;
        }
        code = this.code;
        codeBase = this.codeBase;
        off = pc - codeBase;
      }
      let w = code[off];
      let slots = code;
      let at = off;
      if (w === 0) {
        this.pcValue = pc;
        const decoded = this.decodeSlot(pc, off);
        if (decoded === undefined) {
          this.instret += n - retired;
          return n + 1;
        }
        slots = decoded;
        if (decoded !== code) {
          at = 0;
          codeBase = Number.NaN; // never reuse the scratch slot
          this.codeBase = Number.NaN;
        }
        w = slots[at];
      }
      const imm = slots[at + 1];
      const rd = (w >>> 8) & 63;
      const rs1 = (w >>> 14) & 63;
      const rs2 = (w >>> 20) & 63;
      const next = pc + ((w & COMPRESSED) !== 0 ? 2 : 4);
      n++;
      switch (w & 0xff) {
        case Op.ILLEGAL:
          this.pcValue = pc;
          this.trap(CAUSE_ILLEGAL_INSTRUCTION, false, BigInt(imm >>> 0));
          this.instret += n - 1 - retired;
          return n;
        case Op.LUI:
          xl[rd] = imm;
          xh[rd] = imm >> 31;
          break;
        case Op.AUIPC: {
          const v = pc + imm;
          xl[rd] = v | 0;
          xh[rd] = rv32 ? (v | 0) >> 31 : Math.floor(v / TWO32) | 0;
          break;
        }
        case Op.JAL:
          xl[rd] = next | 0;
          xh[rd] = rv32 ? (next | 0) >> 31 : Math.floor(next / TWO32) | 0;
          pc += imm;
          continue;
        case Op.JALR: {
          const a = xl[rs1];
          const lo = (a + imm) & ~1;
          const hi = (xh[rs1] + (imm >> 31) + ((a + imm) >>> 0 < a >>> 0 ? 1 : 0)) & hiMask;
          xl[rd] = next | 0;
          xh[rd] = rv32 ? (next | 0) >> 31 : Math.floor(next / TWO32) | 0;
          pc = hi * TWO32 + (lo >>> 0);
          continue;
        }
        case Op.BEQ:
          if (xl[rs1] === xl[rs2] && xh[rs1] === xh[rs2]) {
            pc += imm;
            continue;
          }
          break;
        case Op.BNE:
          if (xl[rs1] !== xl[rs2] || xh[rs1] !== xh[rs2]) {
            pc += imm;
            continue;
          }
          break;
        case Op.BLT:
          if (xh[rs1] < xh[rs2] || (xh[rs1] === xh[rs2] && xl[rs1] >>> 0 < xl[rs2] >>> 0)) {
            pc += imm;
            continue;
          }
          break;
        case Op.BGE:
          if (!(xh[rs1] < xh[rs2] || (xh[rs1] === xh[rs2] && xl[rs1] >>> 0 < xl[rs2] >>> 0))) {
            pc += imm;
            continue;
          }
          break;
        case Op.BLTU:
          if (xh[rs1] >>> 0 < xh[rs2] >>> 0 || (xh[rs1] === xh[rs2] && xl[rs1] >>> 0 < xl[rs2] >>> 0)) {
            pc += imm;
            continue;
          }
          break;
        case Op.BGEU:
          if (!(xh[rs1] >>> 0 < xh[rs2] >>> 0 || (xh[rs1] === xh[rs2] && xl[rs1] >>> 0 < xl[rs2] >>> 0))) {
            pc += imm;
            continue;
          }
          break;
        case Op.LB:
        case Op.LH:
        case Op.LW:
        case Op.LD:
        case Op.LBU:
        case Op.LHU:
        case Op.LWU: {
          const a = xl[rs1];
          const lo = (a + imm) | 0;
          const hi = (xh[rs1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) & hiMask;
          const vpn = lo >>> 12;
          const t = vpn & TLB_MASK;
          const po = lo & 0xfff;
          const op = w & 0xff;
          // Any access of up to 8 bytes at po <= 4088 stays inside the page.
          if (rTagLo[t] === vpn && rTagHi[t] === hi && po <= 4088) {
            const view = rView[t];
            const o = rOff[t] + po;
            switch (op) {
              case Op.LW: {
                const v = (o & 3) === 0 ? rWords[t][o >> 2] : view.getInt32(o, true);
                xl[rd] = v;
                xh[rd] = v >> 31;
                break;
              }
              case Op.LD:
                if ((o & 3) === 0) {
                  const words = rWords[t];
                  xl[rd] = words[o >> 2];
                  xh[rd] = words[(o >> 2) + 1];
                } else {
                  xl[rd] = view.getInt32(o, true);
                  xh[rd] = view.getInt32(o + 4, true);
                }
                break;
              case Op.LBU:
                xl[rd] = view.getUint8(o);
                xh[rd] = 0;
                break;
              case Op.LWU:
                xl[rd] = view.getInt32(o, true);
                xh[rd] = 0;
                break;
              case Op.LHU:
                xl[rd] = view.getUint16(o, true);
                xh[rd] = 0;
                break;
              case Op.LH: {
                const v = view.getInt16(o, true);
                xl[rd] = v;
                xh[rd] = v >> 31;
                break;
              }
              default: {
                const v = view.getInt8(o);
                xl[rd] = v;
                xh[rd] = v >> 31;
              }
            }
            break;
          }
          this.pcValue = pc;
          if (!this.load(lo, hi, LOAD_SIZE[op])) {
            this.instret += n - 1 - retired;
            return n;
          }
          this.pcValue = next;
          this.setLoaded(op, rd, this.vLo, this.vHi);
          this.instret += n - retired;
          return n;
        }
        case Op.SB:
        case Op.SH:
        case Op.SW:
        case Op.SD: {
          const a = xl[rs1];
          const lo = (a + imm) | 0;
          const hi = (xh[rs1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) & hiMask;
          const vpn = lo >>> 12;
          const t = vpn & TLB_MASK;
          const po = lo & 0xfff;
          const op = w & 0xff;
          if (wTagLo[t] === vpn && wTagHi[t] === hi && po <= 4088) {
            const view = wView[t];
            const o = wOff[t] + po;
            switch (op) {
              case Op.SW:
                if ((o & 3) === 0) wWords[t][o >> 2] = xl[rs2];
                else view.setInt32(o, xl[rs2], true);
                break;
              case Op.SD:
                if ((o & 3) === 0) {
                  const words = wWords[t];
                  words[o >> 2] = xl[rs2];
                  words[(o >> 2) + 1] = xh[rs2];
                } else {
                  view.setInt32(o, xl[rs2], true);
                  view.setInt32(o + 4, xh[rs2], true);
                }
                break;
              case Op.SB:
                view.setInt8(o, xl[rs2]);
                break;
              default:
                view.setInt16(o, xl[rs2], true);
            }
            const dirty = (wBlock[t] as Ram).dirty;
            if (dirty !== null) dirty[o >>> 12] = 1;
            break;
          }
          this.pcValue = pc;
          if (this.store(lo, hi, STORE_SIZE[op], xl[rs2], xh[rs2])) {
            this.pcValue = next;
            this.instret += n - retired;
          } else {
            this.instret += n - 1 - retired;
          }
          return n;
        }
        case Op.ADDI: {
          const a = xl[rs1];
          const lo = (a + imm) | 0;
          xh[rd] = (xh[rs1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
          xl[rd] = lo;
          break;
        }
        case Op.SLTI: {
          const h = imm >> 31;
          const v = xh[rs1] < h || (xh[rs1] === h && xl[rs1] >>> 0 < imm >>> 0) ? 1 : 0;
          xl[rd] = v;
          xh[rd] = 0;
          break;
        }
        case Op.SLTIU: {
          const h = imm >> 31;
          const v = xh[rs1] >>> 0 < h >>> 0 || (xh[rs1] === h && xl[rs1] >>> 0 < imm >>> 0) ? 1 : 0;
          xl[rd] = v;
          xh[rd] = 0;
          break;
        }
        case Op.XORI:
          xh[rd] = xh[rs1] ^ (imm >> 31);
          xl[rd] = xl[rs1] ^ imm;
          break;
        case Op.ORI:
          xh[rd] = xh[rs1] | (imm >> 31);
          xl[rd] = xl[rs1] | imm;
          break;
        case Op.ANDI:
          xh[rd] = xh[rs1] & (imm >> 31);
          xl[rd] = xl[rs1] & imm;
          break;
        case Op.SLLI:
          this.shiftLeft(rd, xl[rs1], xh[rs1], imm);
          break;
        case Op.SRLI:
          this.shiftRight(rd, xl[rs1], xh[rs1], imm, false);
          break;
        case Op.SRAI:
          this.shiftRight(rd, xl[rs1], xh[rs1], imm, true);
          break;
        case Op.ADD: {
          const a = xl[rs1];
          const lo = (a + xl[rs2]) | 0;
          xh[rd] = (xh[rs1] + xh[rs2] + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
          xl[rd] = lo;
          break;
        }
        case Op.SUB: {
          const a = xl[rs1];
          const b = xl[rs2];
          xh[rd] = (xh[rs1] - xh[rs2] - (a >>> 0 < b >>> 0 ? 1 : 0)) | 0;
          xl[rd] = (a - b) | 0;
          break;
        }
        case Op.SLL:
          this.shiftLeft(rd, xl[rs1], xh[rs1], xl[rs2] & 63);
          break;
        case Op.SLT: {
          const v = xh[rs1] < xh[rs2] || (xh[rs1] === xh[rs2] && xl[rs1] >>> 0 < xl[rs2] >>> 0) ? 1 : 0;
          xl[rd] = v;
          xh[rd] = 0;
          break;
        }
        case Op.SLTU: {
          const v =
            xh[rs1] >>> 0 < xh[rs2] >>> 0 || (xh[rs1] === xh[rs2] && xl[rs1] >>> 0 < xl[rs2] >>> 0) ? 1 : 0;
          xl[rd] = v;
          xh[rd] = 0;
          break;
        }
        case Op.XOR:
          xh[rd] = xh[rs1] ^ xh[rs2];
          xl[rd] = xl[rs1] ^ xl[rs2];
          break;
        case Op.SRL:
          this.shiftRight(rd, xl[rs1], xh[rs1], xl[rs2] & 63, false);
          break;
        case Op.SRA:
          this.shiftRight(rd, xl[rs1], xh[rs1], xl[rs2] & 63, true);
          break;
        case Op.OR:
          xh[rd] = xh[rs1] | xh[rs2];
          xl[rd] = xl[rs1] | xl[rs2];
          break;
        case Op.AND:
          xh[rd] = xh[rs1] & xh[rs2];
          xl[rd] = xl[rs1] & xl[rs2];
          break;
        case Op.ADDIW: {
          const v = (xl[rs1] + imm) | 0;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.SLLIW: {
          const v = xl[rs1] << imm;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.SRLIW: {
          const v = (xl[rs1] >>> imm) | 0;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.SRAIW: {
          const v = xl[rs1] >> imm;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.ADDW: {
          const v = (xl[rs1] + xl[rs2]) | 0;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.SUBW: {
          const v = (xl[rs1] - xl[rs2]) | 0;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.SLLW: {
          const v = xl[rs1] << (xl[rs2] & 31);
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.SRLW: {
          const v = (xl[rs1] >>> (xl[rs2] & 31)) | 0;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.SRAW: {
          const v = xl[rs1] >> (xl[rs2] & 31);
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.FENCE:
          break;
        case Op.MUL: {
          const al = xl[rs1];
          const bl = xl[rs2];
          const hi = (mulhu32(al, bl) + Math.imul(al, xh[rs2]) + Math.imul(xh[rs1], bl)) | 0;
          xl[rd] = Math.imul(al, bl);
          xh[rd] = hi;
          break;
        }
        case Op.MULW: {
          const v = Math.imul(xl[rs1], xl[rs2]);
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.DIVW: {
          const a = xl[rs1];
          const b = xl[rs2];
          const v = b === 0 ? -1 : a === -0x80000000 && b === -1 ? a : (a / b) | 0;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.DIVUW: {
          const a = xl[rs1] >>> 0;
          const b = xl[rs2] >>> 0;
          const v = b === 0 ? -1 : Math.floor(a / b) | 0;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.REMW: {
          const a = xl[rs1];
          const b = xl[rs2];
          const v = b === 0 ? a : a === -0x80000000 && b === -1 ? 0 : (a % b) | 0;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.REMUW: {
          const a = xl[rs1] >>> 0;
          const b = xl[rs2] >>> 0;
          const v = b === 0 ? a | 0 : (a % b) | 0;
          xl[rd] = v;
          xh[rd] = v >> 31;
          break;
        }
        case Op.SH1ADD:
        case Op.SH2ADD:
        case Op.SH3ADD: {
          const s = (w & 0xff) - Op.SH1ADD + 1;
          const al = (xl[rs1] << s) | 0;
          const ah = (xh[rs1] << s) | (xl[rs1] >>> (32 - s));
          const lo = (al + xl[rs2]) | 0;
          xh[rd] = rv32 ? lo >> 31 : (ah + xh[rs2] + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
          xl[rd] = lo;
          break;
        }
        case Op.ADD_UW:
        case Op.SH1ADD_UW:
        case Op.SH2ADD_UW:
        case Op.SH3ADD_UW: {
          const s = (w & 0xff) - Op.ADD_UW;
          const al = (xl[rs1] << s) | 0;
          const ah = s === 0 ? 0 : xl[rs1] >>> (32 - s);
          const lo = (al + xl[rs2]) | 0;
          xh[rd] = (ah + xh[rs2] + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
          xl[rd] = lo;
          break;
        }
        case Op.ANDN:
          xh[rd] = xh[rs1] & ~xh[rs2];
          xl[rd] = xl[rs1] & ~xl[rs2];
          break;
        case Op.ORN:
          xh[rd] = xh[rs1] | ~xh[rs2];
          xl[rd] = xl[rs1] | ~xl[rs2];
          break;
        case Op.XNOR:
          xh[rd] = ~(xh[rs1] ^ xh[rs2]);
          xl[rd] = ~(xl[rs1] ^ xl[rs2]);
          break;
        default:
          // Everything else: rarer operations, kept out of the hot switch.
          // Counters read by CSR instructions must include the instructions before this one.
          this.pcValue = pc;
          this.instret += n - 1 - retired;
          retired = n - 1;
          if (!this.executeRare(w & 0xff, rd, rs1, rs2, imm, next)) return n;
          this.instret++;
          retired = n;
          pc = this.pcValue;
          if (this.exitRequested) {
            this.exitRequested = false;
            return n;
          }
          continue;
      }
      pc = next;
    }
    this.pcValue = pc;
    this.instret += n - retired;
    return n;
  }

  /** Set by a rare operation that changed state the inner loop caches (privilege, translation, code). */
  protected exitRequested = false;

  protected setLoaded(op: number, rd: number, vlo: number, vhi: number): void {
    let lo = vlo;
    let hi = vhi;
    if (op === Op.LB) {
      lo = (lo << 24) >> 24;
      hi = lo >> 31;
    } else if (op === Op.LH) {
      lo = (lo << 16) >> 16;
      hi = lo >> 31;
    } else if (op === Op.LW) hi = lo >> 31;
    else if (op === Op.LBU || op === Op.LHU || op === Op.LWU) hi = 0;
    this.xl[rd] = lo;
    this.xh[rd] = hi;
  }

  protected shiftLeft(rd: number, lo: number, hi: number, s: number): void {
    if (s === 0) {
      this.xl[rd] = lo;
      this.xh[rd] = hi;
    } else if (s < 32) {
      this.xh[rd] = (hi << s) | (lo >>> (32 - s));
      this.xl[rd] = lo << s;
    } else {
      this.xh[rd] = lo << (s - 32);
      this.xl[rd] = 0;
    }
  }

  protected shiftRight(rd: number, lo: number, hi: number, s: number, arith: boolean): void {
    if (s === 0) {
      this.xl[rd] = lo;
      this.xh[rd] = hi;
    } else if (s < 32) {
      this.xl[rd] = (lo >>> s) | (hi << (32 - s));
      this.xh[rd] = arith ? hi >> s : hi >>> s;
    } else {
      this.xl[rd] = arith ? hi >> (s - 32) : hi >>> (s - 32);
      this.xh[rd] = arith ? hi >> 31 : 0;
    }
  }
}

/** High 32 bits of the unsigned 64-bit product of two uint32 values. */
function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}
