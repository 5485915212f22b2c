import { describe, expect, it } from "vitest";
import { HAVE_TOOLCHAIN, machine, SKIP_REASON, X } from "./harness.js";

const f64 = (v: number): bigint => new BigUint64Array(new Float64Array([v]).buffer)[0];
const f32 = (v: number): number => new Uint32Array(new Float32Array([v]).buffer)[0];

describe.skipIf(!HAVE_TOOLCHAIN)(`F and D${HAVE_TOOLCHAIN ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  it("traps while mstatus.FS is Off, then computes, NaN-boxes, sets fflags and marks FS dirty", () => {
    const m = machine(`
      .option norvc
      la t0, trap; csrw mtvec, t0
      fadd.d fa0, fa0, fa0       # FS = Off: illegal instruction
      li t0, 0x2000; csrs mstatus, t0   # FS = Initial
      li a0, 3
      fcvt.d.l fa0, a0
      li a1, 1
      fcvt.d.l fa1, a1
      fdiv.d fa2, fa1, fa0        # 1/3: inexact
      csrr s1, fflags
      fcvt.s.d fa3, fa2
      fmv.x.d s2, fa3             # NaN-boxed single
      fsqrt.d fa4, fa0
      fmadd.d fa5, fa0, fa0, fa1  # 3*3+1 = 10
      fcvt.w.d s3, fa5
      fle.d s4, fa1, fa0
      fmv.w.x fa6, a0             # bit pattern 3 as single
      fclass.s s5, fa6            # positive subnormal: bit 5
      li t1, 0
      fmv.d.x fa7, t1
      fdiv.d fa7, fa1, fa7        # 1/0: DZ
      csrr s6, fflags
      csrr s7, mstatus
      fsgnjn.d fs0, fa1, fa1      # -1
      1: wfi
      j 1b
    trap:
      csrr s0, mcause
      csrr t2, mepc; addi t2, t2, 4; csrw mepc, t2
      mret
    `);
    m.run();
    const h = m.hart;
    expect(h.getX(X.s0)).toBe(2n);
    expect(h.getF(12)).toBe(f64(1 / 3));
    expect(h.getX(X.s1)).toBe(1n); // NX
    expect(h.getX(X.s2)).toBe(0xffffffff00000000n | BigInt(f32(1 / 3)));
    expect(h.getF(14)).toBe(f64(Math.sqrt(3)));
    expect(h.getX(19)).toBe(10n);
    expect(h.getX(20)).toBe(1n);
    expect(h.getX(21)).toBe(1n << 5n);
    expect(h.getF(17)).toBe(f64(Number.POSITIVE_INFINITY));
    expect(h.getX(22)).toBe(1n | 8n); // NX from before, DZ now
    expect((h.getX(23) >> 13n) & 3n).toBe(3n); // FS dirty
    expect(h.getX(23) >> 63n).toBe(1n); // SD
    expect(h.getF(8)).toBe(f64(-1));
  });
});
