/**
 * Hand-derived cases from the RISC-V unprivileged ISA 20191213, chapters
 * 11-12, and IEEE 754-2008: the behaviour the host CPU cannot judge (RMM,
 * Table 11.4, canonical NaNs, FMIN/FMAX per F 2.2) and the subtle rules the
 * hart relies on (exact-zero signs under sign-flipped FMA, tininess after
 * rounding, overflow results). Each expectation is worked out in its comment.
 */
import { describe, expect, it } from "vitest";
import * as F from "./index.js";
import {
  FLAG_DZ,
  FLAG_NV,
  FLAG_NX,
  FLAG_OF,
  FLAG_UF,
  RM_RDN,
  RM_RMM,
  RM_RNE,
  RM_RTZ,
  RM_RUP,
} from "./index.js";

const ALL = [RM_RNE, RM_RTZ, RM_RDN, RM_RUP, RM_RMM];
const ONE = 0x3ff0000000000000n;
const NEG = 0x8000000000000000n;
const QNAN64 = 0x7ff8000000000000n;
const SNAN64 = 0x7ff0000000000001n;
const INF64 = 0x7ff0000000000000n;
const MAX64 = 0x7fefffffffffffffn;
const QNAN32 = 0x7fc00000;
const SNAN32 = 0x7f800001;
const INF32 = 0x7f800000;

/** Runs `op` with a fresh flags object; returns [result, flags]. */
function run<T>(op: (fl: { flags: number }) => T): [T, number] {
  const fl = { flags: 0 };
  const r = op(fl);
  return [r, fl.flags];
}

describe("RMM: round to nearest, ties to max magnitude (section 11.2)", () => {
  it("breaks additive ties away from zero where RNE goes to even", () => {
    // 1 + 2^-53 is halfway between 1 and 1 + 2^-52.
    expect(run((fl) => F.f64Add(ONE, 0x3ca0000000000000n, RM_RMM, fl))).toEqual([
      0x3ff0000000000001n,
      FLAG_NX,
    ]);
    expect(run((fl) => F.f64Add(ONE, 0x3ca0000000000000n, RM_RNE, fl))).toEqual([ONE, FLAG_NX]);
    expect(run((fl) => F.f64Sub(ONE | NEG, 0x3ca0000000000000n, RM_RMM, fl))).toEqual([
      0xbff0000000000001n,
      FLAG_NX,
    ]);
    // binary32: 1 + 2^-24.
    expect(run((fl) => F.f32Add(0x3f800000, 0x33800000, RM_RMM, fl))).toEqual([0x3f800001, FLAG_NX]);
  });
  it("breaks integer-conversion ties away from zero", () => {
    expect(run((fl) => F.f64ToI32(0x4004000000000000n, RM_RMM, fl))).toEqual([3, FLAG_NX]); // 2.5
    expect(run((fl) => F.f64ToI32(0xc004000000000000n, RM_RMM, fl))).toEqual([-3, FLAG_NX]); // -2.5
    expect(run((fl) => F.f64ToI32(0x4004000000000000n, RM_RNE, fl))).toEqual([2, FLAG_NX]);
    expect(run((fl) => F.f32ToU64(0x3f000000, RM_RMM, fl))).toEqual([1n, FLAG_NX]); // 0.5
    // -(0.5 - 2^-54) is below the tie: 0 in RMM and RNE, -1 only in RDN.
    expect(run((fl) => F.f64ToI64(0xbfdfffffffffffffn, RM_RMM, fl))).toEqual([0n, FLAG_NX]);
    expect(run((fl) => F.f64ToI32(0xbfdfffffffffffffn, RM_RNE, fl))).toEqual([0, FLAG_NX]);
    expect(run((fl) => F.f64ToI32(0xbfdfffffffffffffn, RM_RDN, fl))).toEqual([-1, FLAG_NX]);
  });
});

describe("FCVT to integers: Table 11.4", () => {
  it("returns the range maximum for NaN and +inf, the minimum for -inf, with NV only", () => {
    expect(run((fl) => F.f32ToI32(QNAN32, RM_RNE, fl))).toEqual([0x7fffffff, FLAG_NV]);
    expect(run((fl) => F.f32ToI32(INF32, RM_RNE, fl))).toEqual([0x7fffffff, FLAG_NV]);
    expect(run((fl) => F.f32ToI32(INF32 | 0x80000000, RM_RNE, fl))).toEqual([-0x80000000, FLAG_NV]);
    expect(run((fl) => F.f32ToU32(QNAN32, RM_RNE, fl))).toEqual([0xffffffff, FLAG_NV]);
    expect(run((fl) => F.f32ToU32(INF32 | 0x80000000, RM_RNE, fl))).toEqual([0, FLAG_NV]);
    expect(run((fl) => F.f64ToI64(SNAN64, RM_RNE, fl))).toEqual([(1n << 63n) - 1n, FLAG_NV]);
    expect(run((fl) => F.f64ToU64(QNAN64, RM_RNE, fl))).toEqual([(1n << 64n) - 1n, FLAG_NV]);
  });
  it("judges range on the rounded value", () => {
    // 2^31 - 0.5: RDN gives 2^31 - 1 (inexact), RUP gives 2^31 (out of range).
    expect(run((fl) => F.f64ToI32(0x41dfffffffe00000n, RM_RDN, fl))).toEqual([0x7fffffff, FLAG_NX]);
    expect(run((fl) => F.f64ToI32(0x41dfffffffe00000n, RM_RUP, fl))).toEqual([0x7fffffff, FLAG_NV]);
    // -2^31 - 0.5: RUP gives -2^31, RDN is out of range.
    expect(run((fl) => F.f64ToI32(0xc1e0000000100000n, RM_RUP, fl))).toEqual([-0x80000000, FLAG_NX]);
    expect(run((fl) => F.f64ToI32(0xc1e0000000100000n, RM_RDN, fl))).toEqual([-0x80000000, FLAG_NV]);
    // 2^32 - 0.5 to unsigned: RTZ fits, RNE rounds to 2^32 (even) and does not.
    expect(run((fl) => F.f64ToU32(0x41effffffff00000n, RM_RTZ, fl))).toEqual([0xffffffff, FLAG_NX]);
    expect(run((fl) => F.f64ToU32(0x41effffffff00000n, RM_RNE, fl))).toEqual([0xffffffff, FLAG_NV]);
    // -0.5 to unsigned rounds to 0 (RTZ): in range, only inexact; -1.0 is invalid.
    expect(run((fl) => F.f64ToU64(0xbfe0000000000000n, RM_RTZ, fl))).toEqual([0n, FLAG_NX]);
    expect(run((fl) => F.f64ToU64(ONE | NEG, RM_RTZ, fl))).toEqual([0n, FLAG_NV]);
    // 2^63 is one past INT64's maximum; -2^63 is exact.
    expect(run((fl) => F.f64ToI64(0x43e0000000000000n, RM_RNE, fl))).toEqual([(1n << 63n) - 1n, FLAG_NV]);
    expect(run((fl) => F.f64ToI64(0xc3e0000000000000n, RM_RNE, fl))).toEqual([-(1n << 63n), 0]);
    expect(run((fl) => F.f64ToU64(0x43f0000000000000n, RM_RNE, fl))).toEqual([(1n << 64n) - 1n, FLAG_NV]);
  });
});

describe("exact zero results (IEEE 754 6.3) under the FMA sign flips", () => {
  it("x + (-x) is +0 except in RDN, where it is -0", () => {
    for (const rm of ALL) {
      const zero = rm === RM_RDN ? NEG : 0n;
      // FMADD 1*1 + (-1); FNMADD -(1*1) - (-1) = (-1)*1 + 1; FMSUB 1*1 - 1; FNMSUB -(1*1) + 1.
      expect(run((fl) => F.f64MulAdd(ONE, ONE, ONE | NEG, rm, fl))).toEqual([zero, 0]);
      expect(run((fl) => F.f64MulAdd(ONE | NEG, ONE, ONE, rm, fl))).toEqual([zero, 0]);
      expect(run((fl) => F.f32MulAdd(0xbf800000, 0x3f800000, 0x3f800000, rm, fl))).toEqual([
        rm === RM_RDN ? 0x80000000 : 0,
        0,
      ]);
      expect(run((fl) => F.f64Sub(ONE, ONE, rm, fl))).toEqual([zero, 0]);
      expect(run((fl) => F.f64Add(0n, NEG, rm, fl))).toEqual([zero, 0]);
      // Same-signed zeros keep their sign.
      expect(run((fl) => F.f64Add(NEG, NEG, rm, fl))).toEqual([NEG, 0]);
      expect(run((fl) => F.f64MulAdd(NEG, 0n, NEG, rm, fl))).toEqual([NEG, 0]); // (-0*0) + -0
    }
  });
  it("a product that underflows to zero keeps its sign, and is not an exact zero sum", () => {
    // minSub * minSub = 2^-2148, far below half of minSub: RNE gives +0, UF and NX; RUP gives minSub.
    expect(run((fl) => F.f64MulAdd(1n, 1n, NEG, RM_RNE, fl))).toEqual([0n, FLAG_UF | FLAG_NX]);
    expect(run((fl) => F.f64MulAdd(1n, 1n, NEG, RM_RUP, fl))).toEqual([1n, FLAG_UF | FLAG_NX]);
    expect(run((fl) => F.f64MulAdd(1n | NEG, 1n, 0n, RM_RDN, fl))).toEqual([1n | NEG, FLAG_UF | FLAG_NX]);
  });
});

describe("NaNs (section 11.3)", () => {
  it("arithmetic returns the canonical NaN; NV only for signaling inputs", () => {
    expect(run((fl) => F.f64Add(SNAN64, ONE, RM_RNE, fl))).toEqual([QNAN64, FLAG_NV]);
    expect(run((fl) => F.f64Mul(0xfff8000000000123n, ONE, RM_RNE, fl))).toEqual([QNAN64, 0]);
    expect(run((fl) => F.f32Sqrt(0xffc00001, RM_RNE, fl))).toEqual([QNAN32, 0]);
    expect(run((fl) => F.f32ToF64(0x7fc00123, fl))).toEqual([QNAN64, 0]);
    expect(run((fl) => F.f64ToF32(SNAN64, RM_RNE, fl))).toEqual([QNAN32, FLAG_NV]);
  });
  it("inf * 0 in FMA is invalid even with a quiet NaN addend (section 11.6)", () => {
    expect(run((fl) => F.f64MulAdd(INF64, 0n, QNAN64, RM_RNE, fl))).toEqual([QNAN64, FLAG_NV]);
    expect(run((fl) => F.f32MulAdd(0, INF32, QNAN32, RM_RNE, fl))).toEqual([QNAN32, FLAG_NV]);
    expect(run((fl) => F.f64MulAdd(INF64, ONE, INF64 | NEG, RM_RNE, fl))).toEqual([QNAN64, FLAG_NV]);
  });
  it("invalid operations and division by zero", () => {
    expect(run((fl) => F.f64Div(ONE | NEG, 0n, RM_RNE, fl))).toEqual([INF64 | NEG, FLAG_DZ]);
    expect(run((fl) => F.f64Div(0n, NEG, RM_RNE, fl))).toEqual([QNAN64, FLAG_NV]);
    expect(run((fl) => F.f64Sqrt(NEG, RM_RNE, fl))).toEqual([NEG, 0]);
    expect(run((fl) => F.f64Sqrt(1n | NEG, RM_RNE, fl))).toEqual([QNAN64, FLAG_NV]);
  });
});

describe("FMIN/FMAX (F 2.2: IEEE 754-2019 minimumNumber/maximumNumber) and comparisons (section 11.8)", () => {
  it("orders -0 below +0 and returns the non-NaN operand", () => {
    expect(run((fl) => F.f64Min(0n, NEG, fl))).toEqual([NEG, 0]);
    expect(run((fl) => F.f64Max(NEG, 0n, fl))).toEqual([0n, 0]);
    expect(run((fl) => F.f32Min(QNAN32, 0x3f800000, fl))).toEqual([0x3f800000, 0]);
    expect(run((fl) => F.f32Max(0x3f800000, SNAN32, fl))).toEqual([0x3f800000, FLAG_NV]);
    expect(run((fl) => F.f64Max(0xfff8000000000001n, QNAN64, fl))).toEqual([QNAN64, 0]);
    expect(run((fl) => F.f64Min(SNAN64, SNAN64, fl))).toEqual([QNAN64, FLAG_NV]);
  });
  it("FEQ is quiet, FLT/FLE signal on any NaN, and -0 == +0", () => {
    expect(run((fl) => F.f64Eq(QNAN64, QNAN64, fl))).toEqual([false, 0]);
    expect(run((fl) => F.f64Eq(SNAN64, ONE, fl))).toEqual([false, FLAG_NV]);
    expect(run((fl) => F.f64Lt(QNAN64, ONE, fl))).toEqual([false, FLAG_NV]);
    expect(run((fl) => F.f32Le(0x3f800000, QNAN32, fl))).toEqual([false, FLAG_NV]);
    expect(run((fl) => F.f64Eq(NEG, 0n, fl))).toEqual([true, 0]);
    expect(run((fl) => F.f64Lt(NEG, 0n, fl))).toEqual([false, 0]);
    expect(run((fl) => F.f64Le(0n, NEG, fl))).toEqual([true, 0]);
    expect(run((fl) => F.f64Lt(MAX64 | NEG, ONE | NEG, fl))).toEqual([true, 0]);
  });
  it("FCLASS sets exactly one of the ten bits (Table 11.5)", () => {
    const cases: [bigint, number][] = [
      [INF64 | NEG, 0],
      [ONE | NEG, 1],
      [1n | NEG, 2],
      [NEG, 3],
      [0n, 4],
      [1n, 5],
      [ONE, 6],
      [INF64, 7],
      [SNAN64, 8],
      [QNAN64, 9],
    ];
    for (const [x, bit] of cases) expect(F.f64Classify(x)).toBe(1 << bit);
    expect(F.f32Classify(0x807fffff)).toBe(1 << 2);
    expect(F.f32Classify(0x7fbfffff)).toBe(1 << 8);
  });
});

describe("underflow and overflow (section 11.2: tininess after rounding)", () => {
  it("a product that rounds up to the smallest normal is not tiny", () => {
    // (1 + 2^-52) * (2^-1022 - 2^-1074) = 2^-1022 (1 - 2^-104): rounds to 2^-1022 at 53 bits.
    expect(run((fl) => F.f64Mul(0x3ff0000000000001n, 0x000fffffffffffffn, RM_RNE, fl))).toEqual([
      0x0010000000000000n,
      FLAG_NX,
    ]);
    // In RTZ it stays below 2^-1022: tiny and inexact.
    expect(run((fl) => F.f64Mul(0x3ff0000000000001n, 0x000fffffffffffffn, RM_RTZ, fl))).toEqual([
      0x000fffffffffffffn,
      FLAG_UF | FLAG_NX,
    ]);
  });
  it("overflow gives infinity or the largest finite value by mode and sign", () => {
    const want: Record<number, [bigint, bigint]> = {
      [RM_RNE]: [INF64, INF64 | NEG],
      [RM_RTZ]: [MAX64, MAX64 | NEG],
      [RM_RDN]: [MAX64, INF64 | NEG],
      [RM_RUP]: [INF64, MAX64 | NEG],
      [RM_RMM]: [INF64, INF64 | NEG],
    };
    for (const rm of ALL) {
      expect(run((fl) => F.f64Mul(MAX64, 0x4000000000000000n, rm, fl))).toEqual([
        want[rm][0],
        FLAG_OF | FLAG_NX,
      ]);
      expect(run((fl) => F.f64Mul(MAX64 | NEG, 0x4000000000000000n, rm, fl))).toEqual([
        want[rm][1],
        FLAG_OF | FLAG_NX,
      ]);
    }
  });
});

describe("integer to float conversions", () => {
  it("round by mode", () => {
    const big = (1n << 53n) + 1n; // halfway between 2^53 and 2^53 + 2
    expect(run((fl) => F.i64ToF64(big, RM_RNE, fl))).toEqual([0x4340000000000000n, FLAG_NX]);
    expect(run((fl) => F.i64ToF64(big, RM_RMM, fl))).toEqual([0x4340000000000001n, FLAG_NX]);
    expect(run((fl) => F.i64ToF64(-big, RM_RDN, fl))).toEqual([0xc340000000000001n, FLAG_NX]);
    expect(run((fl) => F.u64ToF32((1n << 64n) - 1n, RM_RNE, fl))).toEqual([0x5f800000, FLAG_NX]);
    expect(run((fl) => F.u64ToF32((1n << 64n) - 1n, RM_RTZ, fl))).toEqual([0x5f7fffff, FLAG_NX]);
    expect(run((fl) => F.i32ToF32(-0x80000000, RM_RNE, fl))).toEqual([0xcf000000, 0]);
    expect(run((fl) => F.u32ToF64(0xffffffff, RM_RNE, fl))).toEqual([0x41efffffffe00000n, 0]);
  });
});
