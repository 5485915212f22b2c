/**
 * Seeded random instruction-stream generator for differential testing of
 * RV64GC harts against QEMU. Each generated `.S` program holds several
 * independent cases (so one emulator launch covers many): a case loads edge
 * values into every free integer and floating-point register, runs a random
 * stream drawn from RV64I/M/A/F/D/C/Zicsr/Zifencei/Zba/Zbb/Zbs, traps, M/S/U
 * switches, Sv39 accesses (also from M mode through MPRV), then dumps every x and f register, fcsr, the
 * guest-visible parts of mstatus, the scratch buffer and the Sv39 PTEs.
 *
 * Register conventions: sp (x2) is the stack, gp (x3) points at the scratch
 * buffer, tp (x4) holds computed addresses, t6 (x31) is the print macros'
 * scratch. All other integer registers are random.
 *
 * Left out on purpose, because QEMU 7.2 is implementation-defined or wrong
 * there (see programs/traps.S): misaligned AMOs and SCs; LR/SC pairs with
 * anything but register-only instructions between them (reservation-set
 * behaviour on intervening stores or traps is implementation-defined,
 * unprivileged spec 8.3); reads of counters, time, misa and other
 * implementation-specific CSRs; mstatus.FS (implementations may set Dirty
 * conservatively); instruction-fetch faults (the handler cannot skip them);
 * CTZW (QEMU 7.2 counts into the upper word when the lower word is zero).
 */

/** Options for {@link generateProgram}. */
export interface GeneratorOptions {
  /** Seed of the pseudo-random stream; equal seeds give identical programs. */
  seed: number;
  /** Independent cases in the program. */
  cases?: number;
  /** Random instructions per case. */
  length?: number;
}

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.u32() % items.length];
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

/** Free integer registers (everything but zero, sp, gp, tp, t6). */
const XREGS = [1, ...Array.from({ length: 26 }, (_, i) => i + 5)].map((n) => `x${n}`);
/** Registers reachable by the 3-bit fields of compressed instructions. */
const CREGS = ["x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15"];
const FREGS = Array.from({ length: 32 }, (_, i) => `f${i}`);
const ROUNDING = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"];

const INT_EDGES: bigint[] = [
  0n,
  1n,
  -1n,
  2n,
  0x7fffffffffffffffn,
  -0x8000000000000000n,
  0x7fffffffn,
  0x80000000n,
  -0x80000000n,
  0xffffffffn,
  0xffffffff00000000n,
  0x8000000000000001n,
  0xffn,
  0x8000n,
  -2n,
  63n,
  64n,
  31n,
  32n,
];

/** Double-precision bit patterns at the edges: zeros, infinities, NaNs, subnormals, extremes. */
const D_EDGES: bigint[] = [
  0n,
  0x8000000000000000n,
  0x3ff0000000000000n,
  0xbff0000000000000n,
  0x7ff0000000000000n,
  0xfff0000000000000n,
  0x7ff8000000000000n,
  0x7ff0000000000001n,
  0x7ff4000000000000n,
  0x0000000000000001n,
  0x000fffffffffffffn,
  0x0010000000000000n,
  0x7fefffffffffffffn,
  0x43e0000000000000n,
  0xc3e0000000000000n,
  0x41dfffffffc00000n,
  0x4000000000000000n,
  0x3fe0000000000000n,
  0x4008000000000000n,
];

/** Single-precision bit patterns, NaN-boxed into 64 bits when used. */
const S_EDGES: number[] = [
  0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0x7fa00000,
  0x00000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0x4f000000, 0xcf000000, 0x5f000000, 0x40400000, 0x3f000000,
  0x3eaaaaab,
];

const R_OPS = [
  "add",
  "sub",
  "sll",
  "slt",
  "sltu",
  "xor",
  "srl",
  "sra",
  "or",
  "and",
  "addw",
  "subw",
  "sllw",
  "srlw",
  "sraw",
  "mul",
  "mulh",
  "mulhsu",
  "mulhu",
  "div",
  "divu",
  "rem",
  "remu",
  "mulw",
  "divw",
  "divuw",
  "remw",
  "remuw",
  "sh1add",
  "sh2add",
  "sh3add",
  "add.uw",
  "sh1add.uw",
  "sh2add.uw",
  "sh3add.uw",
  "andn",
  "orn",
  "xnor",
  "max",
  "maxu",
  "min",
  "minu",
  "rol",
  "ror",
  "rolw",
  "rorw",
  "bclr",
  "bset",
  "binv",
  "bext",
];
const I_OPS: [string, number, number][] = [
  ["addi", -2048, 2047],
  ["slti", -2048, 2047],
  ["sltiu", -2048, 2047],
  ["xori", -2048, 2047],
  ["ori", -2048, 2047],
  ["andi", -2048, 2047],
  ["addiw", -2048, 2047],
  ["slli", 0, 63],
  ["srli", 0, 63],
  ["srai", 0, 63],
  ["slliw", 0, 31],
  ["srliw", 0, 31],
  ["sraiw", 0, 31],
  ["slli.uw", 0, 63],
  ["rori", 0, 63],
  ["roriw", 0, 31],
  ["bclri", 0, 63],
  ["bseti", 0, 63],
  ["binvi", 0, 63],
  ["bexti", 0, 63],
];
/** No ctzw: QEMU 7.2 counts into the upper word when the low word is zero (0x8000000000000000 gives 63, not 32). */
const UNARY_OPS = ["clz", "ctz", "cpop", "clzw", "cpopw", "sext.b", "sext.h", "zext.h", "orc.b", "rev8"];
const LOADS: [string, number][] = [
  ["lb", 1],
  ["lh", 2],
  ["lw", 4],
  ["ld", 8],
  ["lbu", 1],
  ["lhu", 2],
  ["lwu", 4],
];
const STORES: [string, number][] = [
  ["sb", 1],
  ["sh", 2],
  ["sw", 4],
  ["sd", 8],
];
const AMOS = ["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu"];
const ORDERING = ["", ".aq", ".rl", ".aqrl"];
const BRANCHES = ["beq", "bne", "blt", "bge", "bltu", "bgeu"];

/** Scratch buffer: 8 pages, the last four also mapped through the Sv39 window. */
const BUF_BYTES = 8 * 4096;
/** Offsets used by ordinary loads/stores: the 12-bit immediate's positive range. */
const BUF_SPAN = 2048;
/**
 * The Sv39 window's virtual base (root slot 4). Its physical twin at 4 GiB is
 * unmapped on both boards, so an access that reaches M mode faults alike
 * (QEMU's PCIe window at 0x40000000 would not).
 */
const VBASE = 0x1_0000_0000;
const SV39_PAGES = 8;

/** One generated program's assembly text. */
export function generateProgram(options: GeneratorOptions): string {
  const rng = new Rng(options.seed);
  const cases = options.cases ?? 4;
  const length = options.length ?? 60;
  const out: string[] = [];
  let label = 0;
  const fresh = (): string => `.Lg${label++}`;
  const emit = (line: string): void => {
    out.push(`  ${line}`);
  };
  const x = (): string => rng.pick(XREGS);
  const f = (): string => rng.pick(FREGS);
  const rm = (): string => rng.pick(ROUNDING);
  const intValue = (): bigint => (rng.chance(0.7) ? rng.pick(INT_EDGES) : rng.u64());
  const doubleValue = (): bigint => {
    const r = rng.int(0, 9);
    if (r < 5) return rng.pick(D_EDGES);
    if (r < 8) return 0xffffffff00000000n | BigInt(rng.chance(0.6) ? rng.pick(S_EDGES) : rng.u32());
    return rng.u64();
  };

  const fpSingle = (): string => {
    const kind = rng.int(0, 9);
    if (kind === 0) return `fsqrt.s ${f()}, ${f()}, ${rm()}`;
    if (kind === 1)
      return `${rng.pick(["fmin.s", "fmax.s", "fsgnj.s", "fsgnjn.s", "fsgnjx.s"])} ${f()}, ${f()}, ${f()}`;
    if (kind === 2)
      return `${rng.pick(["fmadd.s", "fmsub.s", "fnmadd.s", "fnmsub.s"])} ${f()}, ${f()}, ${f()}, ${f()}, ${rm()}`;
    if (kind === 3)
      return `${rng.pick(["fcvt.w.s", "fcvt.wu.s", "fcvt.l.s", "fcvt.lu.s"])} ${x()}, ${f()}, ${rm()}`;
    if (kind === 4)
      return `${rng.pick(["fcvt.s.w", "fcvt.s.wu", "fcvt.s.l", "fcvt.s.lu"])} ${f()}, ${x()}, ${rm()}`;
    if (kind === 5) return `${rng.pick(["feq.s", "flt.s", "fle.s"])} ${x()}, ${f()}, ${f()}`;
    if (kind === 6) return rng.chance(0.5) ? `fclass.s ${x()}, ${f()}` : `fmv.x.w ${x()}, ${f()}`;
    if (kind === 7) return `fmv.w.x ${f()}, ${x()}`;
    return `${rng.pick(["fadd.s", "fsub.s", "fmul.s", "fdiv.s"])} ${f()}, ${f()}, ${f()}, ${rm()}`;
  };
  const fpDouble = (): string => {
    const kind = rng.int(0, 10);
    if (kind === 0) return `fsqrt.d ${f()}, ${f()}, ${rm()}`;
    if (kind === 1)
      return `${rng.pick(["fmin.d", "fmax.d", "fsgnj.d", "fsgnjn.d", "fsgnjx.d"])} ${f()}, ${f()}, ${f()}`;
    if (kind === 2)
      return `${rng.pick(["fmadd.d", "fmsub.d", "fnmadd.d", "fnmsub.d"])} ${f()}, ${f()}, ${f()}, ${f()}, ${rm()}`;
    if (kind === 3)
      return `${rng.pick(["fcvt.w.d", "fcvt.wu.d", "fcvt.l.d", "fcvt.lu.d"])} ${x()}, ${f()}, ${rm()}`;
    if (kind === 4) return `${rng.pick(["fcvt.d.l", "fcvt.d.lu"])} ${f()}, ${x()}, ${rm()}`;
    if (kind === 5) return `${rng.pick(["fcvt.d.w", "fcvt.d.wu"])} ${f()}, ${x()}`;
    if (kind === 6) return `${rng.pick(["feq.d", "flt.d", "fle.d"])} ${x()}, ${f()}, ${f()}`;
    if (kind === 7) return rng.chance(0.5) ? `fclass.d ${x()}, ${f()}` : `fmv.x.d ${x()}, ${f()}`;
    if (kind === 8) return rng.chance(0.5) ? `fcvt.s.d ${f()}, ${f()}, ${rm()}` : `fcvt.d.s ${f()}, ${f()}`;
    if (kind === 9) return `fmv.d.x ${f()}, ${x()}`;
    return `${rng.pick(["fadd.d", "fsub.d", "fmul.d", "fdiv.d"])} ${f()}, ${f()}, ${f()}, ${rm()}`;
  };
  const compressed = (): string => {
    const c = rng.pick(CREGS);
    const nz = (lo: number, hi: number): number => {
      const v = rng.int(lo, hi);
      return v === 0 ? 1 : v;
    };
    switch (rng.int(0, 10)) {
      case 0:
        return `c.addi ${x()}, ${nz(-32, 31)}`;
      case 1:
        return `c.addiw ${x()}, ${rng.int(-32, 31)}`;
      case 2:
        return `c.li ${x()}, ${rng.int(-32, 31)}`;
      case 3:
        return `c.lui ${rng.pick(XREGS.filter((r) => r !== "x2"))}, ${rng.chance(0.5) ? rng.int(1, 31) : rng.int(0xfffe0, 0xfffff)}`;
      case 4:
        return `c.slli ${x()}, ${nz(1, 63)}`;
      case 5:
        return `${rng.pick(["c.srli", "c.srai"])} ${c}, ${nz(1, 63)}`;
      case 6:
        return `c.andi ${c}, ${rng.int(-32, 31)}`;
      case 7:
        return `${rng.pick(["c.mv", "c.add"])} ${x()}, ${x()}`;
      case 8:
        return `${rng.pick(["c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw"])} ${c}, ${rng.pick(CREGS)}`;
      case 9:
        return rng.chance(0.5)
          ? `c.ldsp ${x()}, ${rng.int(0, 31) * 8}(sp)`
          : `c.lwsp ${x()}, ${rng.int(0, 63) * 4}(sp)`;
      default:
        return `c.addi4spn ${c}, sp, ${rng.int(1, 255) * 4}`;
    }
  };
  const trap = (): string[] => {
    switch (rng.int(0, 7)) {
      case 0:
        return [".word 0xffffffff"];
      case 1:
        return [".word 0"];
      case 2:
        return ["ecall"];
      case 3:
        return ["ebreak"];
      case 4:
        return [`ld ${x()}, ${rng.int(0, 255) * 8}(zero)`];
      case 5:
        return [`sw ${x()}, ${rng.int(0, 255) * 4}(zero)`];
      case 6:
        return [`csrr ${x()}, 0x7ff`];
      default:
        return [
          `csrwi frm, ${rng.int(5, 7)}`,
          `fadd.d ${f()}, ${f()}, ${f()}`,
          `csrwi frm, ${rng.int(0, 4)}`,
        ];
    }
  };

  /** One random instruction (or a short fixed idiom) at the current privilege. */
  const instruction = (inMachine: boolean): void => {
    const r = rng.int(0, 99);
    if (r < 18) emit(`${rng.pick(R_OPS)} ${x()}, ${x()}, ${x()}`);
    else if (r < 28) {
      const [op, lo, hi] = rng.pick(I_OPS);
      emit(`${op} ${x()}, ${x()}, ${rng.int(lo, hi)}`);
    } else if (r < 32) emit(`${rng.pick(UNARY_OPS)} ${x()}, ${x()}`);
    else if (r < 34) emit(`${rng.pick(["lui", "auipc"])} ${x()}, ${rng.int(0, 0xfffff)}`);
    else if (r < 40) {
      const [op, width] = rng.pick(LOADS);
      const off = rng.chance(0.8) ? rng.int(0, BUF_SPAN / width - 1) * width : rng.int(0, BUF_SPAN - 8);
      emit(`${op} ${x()}, ${off}(gp)`);
    } else if (r < 45) {
      const [op, width] = rng.pick(STORES);
      const off = rng.chance(0.8) ? rng.int(0, BUF_SPAN / width - 1) * width : rng.int(0, BUF_SPAN - 8);
      emit(`${op} ${x()}, ${off}(gp)`);
    } else if (r < 47) {
      const d = rng.chance(0.5);
      emit(`${d ? "fld" : "flw"} ${f()}, ${rng.int(0, BUF_SPAN / 8 - 1) * 8}(gp)`);
      emit(`${d ? "fsd" : "fsw"} ${f()}, ${rng.int(0, BUF_SPAN / 8 - 1) * 8}(gp)`);
    } else if (r < 51) {
      const d = rng.chance(0.5);
      emit(`addi tp, gp, ${rng.int(0, BUF_SPAN / 8 - 1) * 8 + (d ? 0 : rng.pick([0, 4]))}`);
      emit(`${rng.pick(AMOS)}.${d ? "d" : "w"}${rng.pick(ORDERING)} ${x()}, ${x()}, (tp)`);
    } else if (r < 53) {
      const d = rng.chance(0.5) ? "d" : "w";
      emit(`addi tp, gp, ${rng.int(0, BUF_SPAN / 8 - 1) * 8}`);
      emit(`lr.${d} ${x()}, (tp)`);
      for (let i = rng.int(0, 3); i > 0; i--) emit(`${rng.pick(R_OPS.slice(0, 15))} ${x()}, ${x()}, ${x()}`);
      emit(`sc.${d} ${x()}, ${x()}, (tp)`);
    } else if (r < 65) emit(rng.chance(0.5) ? fpSingle() : fpDouble());
    else if (r < 67) emit(`csrrci ${x()}, fflags, 0x1f`);
    else if (r < 75) emit(compressed());
    else if (r < 82) {
      const skip = fresh();
      emit(`${rng.pick(BRANCHES)} ${x()}, ${x()}, ${skip}`);
      for (let i = rng.int(1, 3); i > 0; i--) emit(`${rng.pick(R_OPS)} ${x()}, ${x()}, ${x()}`);
      out.push(`${skip}:`);
    } else if (r < 85) {
      const target = fresh();
      if (rng.chance(0.5)) emit(`jal ${x()}, ${target}`);
      else {
        emit(`la tp, ${target}`);
        emit(`jalr ${x()}, ${rng.chance(0.5) ? 0 : 1}(tp)`);
      }
      emit(`${rng.pick(R_OPS)} ${x()}, ${x()}, ${x()}`);
      out.push(`${target}:`);
    } else if (r < 89) {
      const csr = rng.pick(["sscratch", "fcsr", "frm", "fflags"]);
      if (csr === "frm" || !inMachine || rng.chance(0.5)) {
        const imm = csr === "frm" ? rng.int(0, 4) : rng.int(0, 31);
        emit(`${rng.pick(["csrrwi", "csrrsi", "csrrci"])} ${x()}, ${csr}, ${imm}`);
      } else emit(`${rng.pick(["csrrw", "csrrs", "csrrc"])} ${x()}, ${csr}, ${x()}`);
    } else if (r < 93) for (const line of trap()) emit(line);
    else if (r < 95) emit(rng.pick(["fence", "fence.i", "fence rw, rw", "fence r, w", "fence.tso"]));
    else emit(`${rng.pick(R_OPS)} ${x()}, ${x()}, ${x()}`);
  };

  /** Runs a block in S or U mode: mret in, random code, ecall back to M. */
  const privilegedBlock = (mode: 0 | 1, sv39: boolean): void => {
    const enter = fresh();
    if (sv39) {
      emit("la t6, sv39_root");
      emit("srli t6, t6, 12");
      emit("li tp, 8 << 60");
      emit("or t6, t6, tp");
      emit("csrw satp, t6");
      emit("sfence.vma");
    }
    const mxrSum = (rng.chance(0.5) ? 1 << 19 : 0) | (rng.chance(0.5) ? 1 << 18 : 0);
    emit("li t6, (3 << 11) | (3 << 18)");
    emit("csrc mstatus, t6");
    emit(`li t6, (${mode} << 11) | ${mxrSum}`);
    emit("csrs mstatus, t6");
    emit(`la t6, ${enter}`);
    emit("csrw mepc, t6");
    emit("mret");
    out.push(`${enter}:`);
    for (let i = rng.int(4, 16); i > 0; i--) {
      if (sv39 && rng.chance(0.4)) {
        const page = rng.int(0, SV39_PAGES - 1);
        const addr = rng.chance(0.05)
          ? rng.chance(0.5)
            ? 0x0000004000000000
            : 0xc0000000
          : VBASE + page * 4096 + rng.int(0, 63) * 8;
        emit(`li tp, ${hex(BigInt(addr))}`);
        const [op] = rng.pick(rng.chance(0.5) ? LOADS : STORES);
        emit(`${op} ${x()}, 0(tp)`);
      } else instruction(false);
    }
    emit("ecall");
    if (sv39) {
      emit("csrw satp, zero");
      emit("sfence.vma");
    }
  };

  /**
   * M-mode loads and stores with mstatus.MPRV = 1 and MPP = S through Sv39
   * (privileged spec 3.1.6.3). MPP is written back to S before every access:
   * after a trap, MRET leaves MPP = U, and QEMU 7.2 keeps translating with
   * TLB entries filled under the old MPP (it flushes only on CSR writes to
   * mstatus), which the spec does not allow.
   */
  const mprvBlock = (): void => {
    emit("la t6, sv39_root");
    emit("srli t6, t6, 12");
    emit("li tp, 8 << 60");
    emit("or t6, t6, tp");
    emit("csrw satp, t6");
    emit("sfence.vma");
    const mxrSum = (rng.chance(0.5) ? 1 << 19 : 0) | (rng.chance(0.5) ? 1 << 18 : 0);
    emit("li t6, (3 << 18)");
    emit("csrc mstatus, t6");
    emit(`li t6, (1 << 17) | ${mxrSum}`);
    emit("csrs mstatus, t6");
    for (let i = rng.int(2, 6); i > 0; i--) {
      emit("li t6, 2 << 11");
      emit("csrc mstatus, t6");
      emit("li t6, 1 << 11");
      emit("csrs mstatus, t6");
      emit(`li tp, ${hex(BigInt(VBASE + rng.int(0, SV39_PAGES - 1) * 4096 + rng.int(0, 63) * 8))}`);
      const [op] = rng.pick(rng.chance(0.5) ? LOADS : STORES);
      emit(`${op} ${x()}, 0(tp)`);
    }
    emit("li t6, 1 << 17");
    emit("csrc mstatus, t6");
    emit("csrw satp, zero");
    emit("sfence.vma");
  };

  /** Random Sv39 leaf flags for the window pages (V, R, W, X, U, A, D). */
  const randomPteFlags = (): number => {
    let flags = rng.chance(0.9) ? 1 : 0;
    for (const bit of [2, 4, 8, 16, 64, 128]) if (rng.chance(0.6)) flags |= bit;
    return flags;
  };

  out.push(
    `/* Generated by @backplane/machine-riscv-virt/testing (test-support/generator.ts), seed ${options.seed}. */`,
  );
  out.push('#include "bp.h"');
  out.push("  .globl main");
  out.push("main:");
  emit("PMP_ALLOW_ALL");
  emit("la t6, gen_trap");
  emit("csrw mtvec, t6");
  emit("li t6, 1 << 13");
  emit("csrs mstatus, t6");
  emit("la gp, scratch");
  // Non-leaf links hold table addresses, so they are filled in at startup.
  for (const [table, slot, next] of [
    ["sv39_root", VBASE / 2 ** 30, "sv39_l1"],
    ["sv39_l1", 0, "sv39_l0"],
  ] as const) {
    emit(`la t6, ${next}`);
    emit("srli t6, t6, 12");
    emit("slli t6, t6, 10");
    emit("ori t6, t6, 1");
    emit(`la tp, ${table}`);
    emit(`sd t6, ${slot * 8}(tp)`);
  }
  for (let c = 0; c < cases; c++) {
    out.push(`  /* case ${c} */`);
    emit(`PUTS "case ${c}\\n"`);
    for (const r of XREGS) emit(`li ${r}, ${hex(intValue())}`);
    for (const r of FREGS) {
      emit(`li t6, ${hex(doubleValue())}`);
      emit(`fmv.d.x ${r}, t6`);
    }
    emit(`li t6, ${rng.int(0, 4) << 5}`);
    emit("csrw fcsr, t6");
    for (let p = 0; p < SV39_PAGES; p++) {
      emit(`li t6, ${randomPteFlags()}`);
      emit(`call set_window_pte_${p}`);
    }
    emit("sfence.vma");
    let remaining = length;
    while (remaining > 0) {
      const block = rng.int(0, 99);
      if (block < 8) {
        // an S- or U-mode block with Sv39 off, or an S-mode block through Sv39
        privilegedBlock(block < 2 ? 0 : 1, block >= 4);
        remaining -= 8;
      } else if (block < 10) {
        mprvBlock();
        remaining -= 6;
      } else {
        instruction(true);
        remaining -= 1;
      }
    }
    emit("call dump_state");
  }
  emit("li a0, 0");
  emit("j bp_exit");

  // State dump: every x register but sp/gp/tp/t6, every f register, fcsr,
  // mstatus fields, the scratch buffer's first 2 KiB and the window PTEs.
  out.push("dump_state:");
  for (const r of XREGS) emit(`PRINT ${r}, ${r}`);
  for (const r of FREGS) emit(`PRINTD ${r}, ${r}`);
  emit("csrr t6, fcsr");
  emit("PRINT fcsr, t6");
  emit("csrr t6, mstatus");
  emit("li tp, (3 << 11) | (1 << 8) | (1 << 7) | (1 << 5) | (1 << 3) | (1 << 1) | (7 << 17)");
  emit("and t6, t6, tp");
  emit("PRINT mstatus, t6");
  emit("csrr t6, sscratch");
  emit("PRINT sscratch, t6");
  emit("addi sp, sp, -16");
  emit("sd ra, 0(sp)");
  // The buffer's first 2 KiB folded into 8 lines: h = rotr(h, 59) ^ word, per 256 bytes.
  emit("mv tp, gp");
  out.push("1:");
  emit("li t6, 0");
  emit("sd t0, 8(sp)");
  emit("li t0, 32");
  out.push("2:");
  emit("rori t6, t6, 59");
  emit("ld ra, 0(tp)");
  emit("xor t6, t6, ra");
  emit("addi tp, tp, 8");
  emit("addi t0, t0, -1");
  emit("bnez t0, 2b");
  emit("ld t0, 8(sp)");
  emit("PRINT mem, t6");
  emit(`li t6, ${BUF_SPAN}`);
  emit("add t6, t6, gp");
  emit("bltu tp, t6, 1b");
  emit("la tp, sv39_l0");
  for (let p = 0; p < SV39_PAGES; p++) {
    emit(`ld t6, ${p * 8}(tp)`);
    emit("andi t6, t6, 0xff");
    emit("PRINT pte, t6");
  }
  emit("ld ra, 0(sp)");
  emit("addi sp, sp, 16");
  emit("ret");

  // Window PTE setters: l0[p] maps VBASE + p pages to the scratch page 4 + p % 4, flags in t6.
  for (let p = 0; p < SV39_PAGES; p++) {
    out.push(`set_window_pte_${p}:`);
    emit(`la tp, scratch + ${(4 + (p % 4)) * 4096}`);
    emit("srli tp, tp, 12");
    emit("slli tp, tp, 10");
    emit("or t6, t6, tp");
    emit("la tp, sv39_l0");
    emit(`sd t6, ${p * 8}(tp)`);
    emit("ret");
  }

  // The M-mode handler: dump the trap, return to M after an ecall from S/U,
  // otherwise resume after the faulting instruction at the same privilege.
  out.push("  .align 2");
  out.push("gen_trap:");
  emit("csrrw sp, mscratch, sp");
  emit("addi sp, sp, -32");
  emit("sd t0, 0(sp)");
  emit("sd t1, 8(sp)");
  emit('PUTS "trap\\n"');
  emit("csrr t0, mcause");
  emit("PRINT mcause, t0");
  emit("csrr t1, mtval");
  emit("PRINT mtval, t1");
  emit("csrr t1, mepc");
  emit("PRINT mepc, t1");
  emit("csrr t1, mstatus");
  emit("srli t1, t1, 11");
  emit("andi t1, t1, 3");
  emit("PRINT mpp, t1");
  emit("addi t0, t0, -8");
  emit("li t1, 1");
  emit("bgtu t0, t1, 2f");
  emit("li t0, 3 << 11");
  emit("csrs mstatus, t0");
  out.push("2:");
  emit("SKIP_MEPC");
  emit("ld t0, 0(sp)");
  emit("ld t1, 8(sp)");
  emit("addi sp, sp, 32");
  emit("csrrw sp, mscratch, sp");
  emit("mret");

  // Sv39 tables: identity gigapages for devices (0) and RAM (2), and a
  // 4 KiB-page window at VBASE through sv39_l1/sv39_l0 (linked at startup).
  out.push("  .data");
  out.push("  .align 12");
  out.push("sv39_root:");
  out.push("  .dword (0 << 10) | 0xc7");
  out.push("  .dword 0");
  out.push("  .dword (0x80000000 >> 12 << 10) | 0xcf");
  out.push("  .fill 509, 8, 0");
  out.push("sv39_l1:");
  out.push("  .fill 512, 8, 0");
  out.push("sv39_l0:");
  out.push("  .fill 512, 8, 0");
  out.push("scratch:");
  for (let i = 0; i < BUF_BYTES / 8; i++) {
    out.push(`  .dword ${hex(i < BUF_SPAN / 8 || i >= 4 * 512 ? rng.u64() : 0n)}`);
  }
  out.push("");
  return out.join("\n");
}
