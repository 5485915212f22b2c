/**
 * The RISC-V F and D extension operations (unprivileged ISA 20191213,
 * chapters 11 and 12) on bit patterns: binary32 values are uint32 numbers,
 * binary64 values are uint64 bigints. `rm` is a static rounding mode 0..4
 * (RNE, RTZ, RDN, RUP, RMM; the caller resolves DYN from frm and rejects
 * 5, 6 and invalid frm values); fflags bits are OR-ed into `fl.flags`.
 * FNMADD/FMSUB/FNMSUB are mulAdd with negated inputs; FSGNJ*, FMV and the
 * NaN-boxing of binary32 values in 64-bit registers (section 12.2) belong to
 * the caller, as does sign-extending 32-bit integer results on RV64.
 *
 * Common cases take the exact binary64 fast paths of fast.ts.
 *
 * Deviation: none known.
 */

import {
  add32,
  add64,
  div32,
  div64,
  exactInt64,
  int32ToF32,
  int64ToF64,
  intFrom32,
  intFrom64,
  mul32,
  mul64,
  mulAdd32,
  mulAdd64,
  narrow64,
  sqrt32,
  sqrt64,
  widen32,
} from "./fast.js";
import {
  add,
  classify,
  convertFormat,
  BINARY64 as D,
  div,
  eq,
  type FpFlags,
  fromInt,
  INT32,
  INT64,
  lessThan,
  minMax,
  mul,
  mulAdd,
  BINARY32 as S,
  sqrt,
  toInt,
  UINT32,
  UINT64,
} from "./softfloat.js";

const SIGN32 = 0x80000000;
const SIGN64 = 0x8000000000000000n;

const big = BigInt;

export function f32Add(a: number, b: number, rm: number, fl: FpFlags): number {
  return add32(a, b, rm, fl) ?? Number(add(S, big(a), big(b), rm, fl));
}
export function f32Sub(a: number, b: number, rm: number, fl: FpFlags): number {
  const c = (b ^ SIGN32) >>> 0;
  return add32(a, c, rm, fl) ?? Number(add(S, big(a), big(c), rm, fl));
}
export function f32Mul(a: number, b: number, rm: number, fl: FpFlags): number {
  return mul32(a, b, rm, fl) ?? Number(mul(S, big(a), big(b), rm, fl));
}
export function f32Div(a: number, b: number, rm: number, fl: FpFlags): number {
  return div32(a, b, rm, fl) ?? Number(div(S, big(a), big(b), rm, fl));
}
export function f32Sqrt(a: number, rm: number, fl: FpFlags): number {
  return sqrt32(a, rm, fl) ?? Number(sqrt(S, big(a), rm, fl));
}
/** a * b + c rounded once (FMADD.S); negate inputs for FMSUB/FNMSUB/FNMADD. */
export function f32MulAdd(a: number, b: number, c: number, rm: number, fl: FpFlags): number {
  return mulAdd32(a, b, c, rm, fl) ?? Number(mulAdd(S, big(a), big(b), big(c), rm, fl));
}
export function f32Min(a: number, b: number, fl: FpFlags): number {
  return Number(minMax(S, big(a), big(b), false, fl));
}
export function f32Max(a: number, b: number, fl: FpFlags): number {
  return Number(minMax(S, big(a), big(b), true, fl));
}
export function f32Eq(a: number, b: number, fl: FpFlags): boolean {
  return eq(S, big(a), big(b), fl);
}
export function f32Lt(a: number, b: number, fl: FpFlags): boolean {
  return lessThan(S, big(a), big(b), false, fl);
}
export function f32Le(a: number, b: number, fl: FpFlags): boolean {
  return lessThan(S, big(a), big(b), true, fl);
}
export function f32Classify(a: number): number {
  return classify(S, big(a));
}
/** FCVT.D.S (exact; rm has no effect). */
export function f32ToF64(a: number, fl: FpFlags): bigint {
  return widen32(a) ?? convertFormat(S, D, big(a), 0, fl);
}
export function f32ToI32(a: number, rm: number, fl: FpFlags): number {
  return intFrom32(a, -0x80000000, 0x7fffffff, rm, fl) ?? Number(toInt(S, INT32, big(a), rm, fl));
}
export function f32ToU32(a: number, rm: number, fl: FpFlags): number {
  return intFrom32(a, 0, 0xffffffff, rm, fl) ?? Number(toInt(S, UINT32, big(a), rm, fl));
}
export function f32ToI64(a: number, rm: number, fl: FpFlags): bigint {
  const r = intFrom32(a, -(2 ** 53), 2 ** 53, rm, fl);
  return r === undefined ? toInt(S, INT64, big(a), rm, fl) : big(r);
}
export function f32ToU64(a: number, rm: number, fl: FpFlags): bigint {
  const r = intFrom32(a, 0, 2 ** 53, rm, fl);
  return r === undefined ? toInt(S, UINT64, big(a), rm, fl) : big(r);
}
export function i32ToF32(v: number, rm: number, fl: FpFlags): number {
  return int32ToF32(v | 0, rm, fl) ?? Number(fromInt(S, big(v | 0), rm, fl));
}
export function u32ToF32(v: number, rm: number, fl: FpFlags): number {
  return int32ToF32(v >>> 0, rm, fl) ?? Number(fromInt(S, big(v >>> 0), rm, fl));
}
export function i64ToF32(v: bigint, rm: number, fl: FpFlags): number {
  return Number(fromInt(S, BigInt.asIntN(64, v), rm, fl));
}
export function u64ToF32(v: bigint, rm: number, fl: FpFlags): number {
  return Number(fromInt(S, BigInt.asUintN(64, v), rm, fl));
}

export function f64Add(a: bigint, b: bigint, rm: number, fl: FpFlags): bigint {
  return add64(a, b, rm, fl) ?? add(D, a, b, rm, fl);
}
export function f64Sub(a: bigint, b: bigint, rm: number, fl: FpFlags): bigint {
  const c = b ^ SIGN64;
  return add64(a, c, rm, fl) ?? add(D, a, c, rm, fl);
}
export function f64Mul(a: bigint, b: bigint, rm: number, fl: FpFlags): bigint {
  return mul64(a, b, rm, fl) ?? mul(D, a, b, rm, fl);
}
export function f64Div(a: bigint, b: bigint, rm: number, fl: FpFlags): bigint {
  return div64(a, b, rm, fl) ?? div(D, a, b, rm, fl);
}
export function f64Sqrt(a: bigint, rm: number, fl: FpFlags): bigint {
  return sqrt64(a, rm, fl) ?? sqrt(D, a, rm, fl);
}
/** a * b + c rounded once (FMADD.D); negate inputs for FMSUB/FNMSUB/FNMADD. */
export function f64MulAdd(a: bigint, b: bigint, c: bigint, rm: number, fl: FpFlags): bigint {
  return mulAdd64(a, b, c, rm, fl) ?? mulAdd(D, a, b, c, rm, fl);
}
export function f64Min(a: bigint, b: bigint, fl: FpFlags): bigint {
  return minMax(D, a, b, false, fl);
}
export function f64Max(a: bigint, b: bigint, fl: FpFlags): bigint {
  return minMax(D, a, b, true, fl);
}
export function f64Eq(a: bigint, b: bigint, fl: FpFlags): boolean {
  return eq(D, a, b, fl);
}
export function f64Lt(a: bigint, b: bigint, fl: FpFlags): boolean {
  return lessThan(D, a, b, false, fl);
}
export function f64Le(a: bigint, b: bigint, fl: FpFlags): boolean {
  return lessThan(D, a, b, true, fl);
}
export function f64Classify(a: bigint): number {
  return classify(D, a);
}
/** FCVT.S.D. */
export function f64ToF32(a: bigint, rm: number, fl: FpFlags): number {
  return narrow64(a, rm, fl);
}
export function f64ToI32(a: bigint, rm: number, fl: FpFlags): number {
  return intFrom64(a, -0x80000000, 0x7fffffff, rm, fl) ?? Number(toInt(D, INT32, a, rm, fl));
}
export function f64ToU32(a: bigint, rm: number, fl: FpFlags): number {
  return intFrom64(a, 0, 0xffffffff, rm, fl) ?? Number(toInt(D, UINT32, a, rm, fl));
}
export function f64ToI64(a: bigint, rm: number, fl: FpFlags): bigint {
  const r = intFrom64(a, -(2 ** 53), 2 ** 53, rm, fl);
  return r === undefined ? toInt(D, INT64, a, rm, fl) : big(r);
}
export function f64ToU64(a: bigint, rm: number, fl: FpFlags): bigint {
  const r = intFrom64(a, 0, 2 ** 53, rm, fl);
  return r === undefined ? toInt(D, UINT64, a, rm, fl) : big(r);
}
/** FCVT.D.W: exact; `rm` and `fl` are accepted for a uniform signature. */
export function i32ToF64(v: number, _rm: number, _fl: FpFlags): bigint {
  return exactInt64(v | 0);
}
/** FCVT.D.WU: exact; `rm` and `fl` are accepted for a uniform signature. */
export function u32ToF64(v: number, _rm: number, _fl: FpFlags): bigint {
  return exactInt64(v >>> 0);
}
export function i64ToF64(v: bigint, rm: number, fl: FpFlags): bigint {
  const x = BigInt.asIntN(64, v);
  return int64ToF64(x, rm, fl) ?? fromInt(D, x, rm, fl);
}
export function u64ToF64(v: bigint, rm: number, fl: FpFlags): bigint {
  const x = BigInt.asUintN(64, v);
  return int64ToF64(x, rm, fl) ?? fromInt(D, x, rm, fl);
}
