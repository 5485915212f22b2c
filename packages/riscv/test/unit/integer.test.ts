import { describe, expect, it } from "vitest";
import { HAVE_TOOLCHAIN, machine, SKIP_REASON, X } from "./harness.js";

const M64 = (1n << 64n) - 1n;
const u = (v: bigint): bigint => v & M64;

describe.skipIf(!HAVE_TOOLCHAIN)(
  `RV64IM integer instructions${HAVE_TOOLCHAIN ? "" : ` (skipped: ${SKIP_REASON})`}`,
  () => {
    it("computes arithmetic, logic, shifts and compares on 64-bit values", () => {
      const m = machine(`
      auipc s8, 0x12345        # first instruction: pc = 0x80000000
      li a0, 0x7fffffffffffffff
      addi a1, a0, 1          # wraps to INT64_MIN
      li t0, -5
      srai a2, t0, 1          # -3
      srli a3, t0, 60         # 0xf
      slli a4, t0, 33
      sltu a5, a0, a1         # 1
      slt a6, a0, a1          # 0
      addw a7, a0, a0         # -2 (32-bit wrap, sign-extended)
      li s2, 0x123456789
      sraiw s3, s2, 4
      srlw s4, t0, a3         # 0xfffffffb >> 15
      sub s5, zero, a0
      xori s6, t0, -1         # 4
      lui s7, 0x80000         # sign-extended 0xffffffff80000000
      1: wfi
      j 1b
    `);
      m.run();
      const h = m.hart;
      expect(h.getX(X.a1)).toBe(1n << 63n);
      expect(h.getX(X.a2)).toBe(u(-3n));
      expect(h.getX(X.a3)).toBe(0xfn);
      expect(h.getX(X.a4)).toBe(u(-5n << 33n));
      expect(h.getX(X.a5)).toBe(1n);
      expect(h.getX(X.a6)).toBe(0n);
      expect(h.getX(X.a7)).toBe(u(-2n));
      expect(h.getX(19)).toBe(0x2345678n);
      expect(h.getX(20)).toBe(0x1ffffn);
      expect(h.getX(21)).toBe(u(-0x7fffffffffffffffn));
      expect(h.getX(22)).toBe(4n);
      expect(h.getX(23)).toBe(0xffffffff80000000n);
      expect(h.getX(24)).toBe(0x80000000n + 0x12345000n);
      expect(h.getX(0)).toBe(0n);
    });

    it("multiplies and divides including the corner cases of chapter 7", () => {
      const m = machine(`
      li a0, -7
      li a1, 3
      mul t0, a0, a1           # -21
      div t1, a0, a1           # -2
      rem t2, a0, a1           # -1
      divu s0, a0, a1
      div s1, a0, zero         # -1
      rem a2, a0, zero         # -7
      li a3, 0x8000000000000000
      li a4, -1
      div a5, a3, a4           # overflow: INT64_MIN
      rem a6, a3, a4           # 0
      mulh a7, a3, a3          # 2^62
      mulhu s2, a4, a4         # 2^64 - 2
      mulhsu s3, a4, a4        # -1
      li s4, 0x123456789abcdef
      li s5, 0xfedcba987654321
      mul s6, s4, s5
      divw s7, a0, a1
      remuw s8, a0, a1
      divuw s9, a1, zero
      mulw s10, s4, s5
      1: wfi
      j 1b
    `);
      m.run();
      const h = m.hart;
      expect(h.getX(X.t0)).toBe(u(-21n));
      expect(h.getX(X.t1)).toBe(u(-2n));
      expect(h.getX(X.t2)).toBe(u(-1n));
      expect(h.getX(X.s0)).toBe(u(-7n) / 3n);
      expect(h.getX(X.s1)).toBe(M64);
      expect(h.getX(X.a2)).toBe(u(-7n));
      expect(h.getX(X.a5)).toBe(1n << 63n);
      expect(h.getX(X.a6)).toBe(0n);
      expect(h.getX(X.a7)).toBe(1n << 62n);
      expect(h.getX(X.s2)).toBe(M64 - 1n);
      expect(h.getX(19)).toBe(M64);
      expect(h.getX(22)).toBe(u(0x123456789abcdefn * 0xfedcba987654321n));
      expect(h.getX(23)).toBe(u(-2n));
      expect(h.getX(24)).toBe(BigInt((0xfffffff9 % 3) >>> 0));
      expect(h.getX(25)).toBe(M64);
      expect(h.getX(26)).toBe(u(BigInt.asIntN(32, 0x123456789abcdefn * 0xfedcba987654321n)));
    });

    it("loads and stores every width, sign- and zero-extending, misaligned too", () => {
      const m = machine(`
      la s0, data
      li t0, 0x8899aabbccddeeff
      sd t0, 0(s0)
      lb a0, 0(s0)
      lbu a1, 0(s0)
      lh a2, 6(s0)
      lhu a3, 6(s0)
      lw a4, 4(s0)
      lwu a5, 4(s0)
      ld a6, 0(s0)
      sw t0, 9(s0)              # misaligned store
      lw a7, 9(s0)              # misaligned load
      sb t0, 16(s0)
      sh t0, 18(s0)
      ld s2, 16(s0)
      1: wfi
      j 1b
      .balign 8
      data: .zero 32
    `);
      m.run();
      const h = m.hart;
      expect(h.getX(X.a0)).toBe(u(-1n));
      expect(h.getX(X.a1)).toBe(0xffn);
      expect(h.getX(X.a2)).toBe(u(-0x7767n));
      expect(h.getX(X.a3)).toBe(0x8899n);
      expect(h.getX(X.a4)).toBe(0xffffffff8899aabbn);
      expect(h.getX(X.a5)).toBe(0x8899aabbn);
      expect(h.getX(X.a6)).toBe(0x8899aabbccddeeffn);
      expect(h.getX(X.a7)).toBe(0xffffffffccddeeffn);
      expect(h.getX(X.s2)).toBe(0xeeff00ffn);
    });

    it("runs compressed code and Zba/Zbb/Zbs", () => {
      const m = machine(`
      c.li a0, 5
      c.addi a0, -2          # 3
      c.slli a0, 4           # 48
      c.mv a1, a0
      c.add a1, a0           # 96
      li a2, 0x00f0
      sh2add a3, a2, a1      # 0x3c0 + 96
      clz a4, a2             # 56
      ctz a5, a2             # 4
      cpop a6, a2            # 4
      rev8 a7, a2            # 0xf000000000000000
      bset s2, zero, a5      # 16
      bexti s3, a2, 5        # 1
      li t0, -1
      add.uw s4, t0, zero    # 0xffffffff
      rori s5, a2, 8         # 0xf000000000000000
      min s6, t0, a2         # -1
      maxu s7, t0, a2        # -1
      orc.b s8, a2           # 0xff
      sext.b s9, a2          # -16
      1: wfi
      j 1b
    `);
      m.run();
      const h = m.hart;
      expect(h.getX(X.a0)).toBe(48n);
      expect(h.getX(X.a1)).toBe(96n);
      expect(h.getX(X.a3)).toBe(0x3c0n + 96n);
      expect(h.getX(X.a4)).toBe(56n);
      expect(h.getX(X.a5)).toBe(4n);
      expect(h.getX(X.a6)).toBe(4n);
      expect(h.getX(X.a7)).toBe(0xf000000000000000n);
      expect(h.getX(18)).toBe(16n);
      expect(h.getX(19)).toBe(1n);
      expect(h.getX(20)).toBe(0xffffffffn);
      expect(h.getX(21)).toBe(0xf000000000000000n);
      expect(h.getX(22)).toBe(M64);
      expect(h.getX(23)).toBe(M64);
      expect(h.getX(24)).toBe(0xffn);
      expect(h.getX(25)).toBe(u(-16n));
    });

    it("does atomics, LR/SC and keeps counting instructions", () => {
      const m = machine(`
      la s0, data
      li t0, 10
      sd t0, 0(s0)
      li t1, 5
      amoadd.d a0, t1, (s0)     # a0 = 10, mem = 15
      amoswap.w a1, t1, (s0)    # a1 = 15, low word = 5
      amomax.d a2, t0, (s0)     # mem = 10
      lr.d a3, (s0)
      sc.d a4, t1, (s0)         # success -> 0
      sc.d a5, t1, (s0)         # no reservation -> 1
      ld a6, 0(s0)
      csrr a7, minstret
      1: wfi
      j 1b
      .balign 8
      data: .zero 8
    `);
      m.run();
      const h = m.hart;
      expect(h.getX(X.a0)).toBe(10n);
      expect(h.getX(X.a1)).toBe(15n);
      expect(h.getX(X.a2)).toBe(5n);
      expect(h.getX(X.a3)).toBe(10n);
      expect(h.getX(X.a4)).toBe(0n);
      expect(h.getX(X.a5)).toBe(1n);
      expect(h.getX(X.a6)).toBe(5n);
      // la = 2 instructions, li = 1 each: 12 instructions precede the csrr.
      expect(h.getX(X.a7)).toBe(12n);
    });
  },
);
