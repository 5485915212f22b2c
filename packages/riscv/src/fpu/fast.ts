/**
 * Fast paths for the common case, on the host's binary64 arithmetic: JS
 * numbers are IEEE 754 binary64 with round-to-nearest-even (ECMA-262
 * 6.1.6.1). For finite operands away from overflow and underflow, the
 * rounding error of a sum, product, quotient or square root is recovered
 * exactly with error-free transformations (Knuth's TwoSum; Dekker's
 * TwoProduct with Veltkamp splitting; the exact remainder of a correctly
 * rounded quotient or root), which is enough to round in every RISC-V mode
 * (unprivileged ISA 20191213, section 11.2) and to raise NX.
 *
 * binary32 results use round-to-odd: the exact result is first rounded to a
 * binary64 with a sticky last bit, which then rounds to binary32 exactly as
 * the exact result would (Math.fround plus a step to the neighbour `rm`
 * wants; the soft-float conversion near underflow and overflow).
 * Conversions to and from integers use plain number arithmetic where every
 * value involved is an exact integer below 2^53.
 *
 * Every function returns `undefined` outside its safe range (zeros, NaNs,
 * infinities, tiny or huge magnitudes) and the caller falls back to the exact
 * soft-float path in softfloat.ts.
 *
 * Deviation: none; this is a speed-up with the same results bit for bit.
 */
import {
  BINARY32,
  BINARY64,
  convertFormat,
  FLAG_NX,
  type FpFlags,
  RM_RDN,
  RM_RMM,
  RM_RNE,
  RM_RTZ,
  RM_RUP,
} from "./softfloat.js";

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

const toNumber = (bits: bigint): number => {
  u64[0] = bits;
  return f64[0];
};
const toBits = (x: number): bigint => {
  f64[0] = x;
  return u64[0];
};

/** Magnitude bounds of the safe range: no overflow, no underflow in any partial product. */
const LOW = 2 ** -900;
const HIGH = 2 ** 990;
const SPLIT = 134217729; // 2^27 + 1, Veltkamp's splitter for binary64

/** The low part of x * y given p = fl(x * y) (Dekker's TwoProduct); |x|, |y|, |p| within (LOW, HIGH). */
function productError(x: number, y: number, p: number): number {
  let t = SPLIT * x;
  const xh = t - (t - x);
  const xl = x - xh;
  t = SPLIT * y;
  const yh = t - (t - y);
  const yl = y - yh;
  return xh * yh - p + xh * yl + xl * yh + xl * yl;
}

const inRange = (x: number): boolean => {
  const m = Math.abs(x);
  return m > LOW && m < HIGH;
};

/**
 * Which neighbour an exact result v rounds to by `rm`, given s = v rounded to
 * nearest even and the sign of v - s (`err`): 0 for s itself, +1 for the next
 * value away from zero, -1 for the next toward zero, as steps of the bit
 * pattern. `tie` says v lies exactly halfway between s and the next value
 * away from zero. Raises NX when v is not s.
 */
function direction(s: number, err: number, tie: boolean, rm: number, fl: FpFlags): number {
  if (err === 0) return 0;
  fl.flags |= FLAG_NX;
  const away = err > 0 === s > 0; // |v| > |s|
  const step = away ? 1 : -1; // toward v
  switch (rm) {
    case RM_RTZ:
      return away ? 0 : step;
    case RM_RDN:
      return err < 0 ? step : 0;
    case RM_RUP:
      return err > 0 ? step : 0;
    case RM_RMM:
      return tie ? step : 0;
    default:
      return 0;
  }
}

/** Whether s + err (err exact, |err| <= half an ulp) is a tie that RNE rounded toward zero. */
function isTie(s: number, err: number, ulp: number): boolean {
  return err > 0 === s > 0 && Math.abs(err) === ulp / 2;
}

/** The binary64 bits of v rounded by `rm`, from s = v rounded to nearest even (normal) and v - s (exact, or its sign). */
function roundError(s: number, err: number, mayTie: boolean, rm: number, fl: FpFlags): bigint {
  const bits = toBits(s);
  const tie = mayTie && rm === RM_RMM && isTie(s, err, 2 ** (Number((bits >> 52n) & 0x7ffn) - 1075));
  const d = direction(s, err, tie, rm, fl);
  return d === 0 ? bits : d > 0 ? bits + 1n : bits - 1n;
}

/** The bits of v rounded to odd, from s = v rounded to nearest even and the sign of v - s. */
function roundToOdd(s: number, err: number): bigint {
  const bits = toBits(s);
  if (err === 0 || (bits & 1n) === 1n) return bits;
  return err > 0 === s > 0 ? bits + 1n : bits - 1n;
}

/** The exact error of s = fl(x + y) (Knuth's TwoSum). */
function sumError(x: number, y: number, s: number): number {
  const yv = s - x;
  return x - (s - yv) + (y - yv);
}

export function add64(a: bigint, b: bigint, rm: number, fl: FpFlags): bigint | undefined {
  const x = toNumber(a);
  const y = toNumber(b);
  const s = x + y;
  // Sums below 2^-1022 are exact, so only zeros (signed by rm) and huge values go the slow way.
  if (!(s !== 0 && Math.abs(s) < HIGH && Math.abs(x) < HIGH && Math.abs(y) < HIGH)) return undefined;
  const err = sumError(x, y, s);
  return roundError(s, err, true, rm, fl);
}

export function mul64(a: bigint, b: bigint, rm: number, fl: FpFlags): bigint | undefined {
  const x = toNumber(a);
  const y = toNumber(b);
  const p = x * y;
  if (!(inRange(p) && inRange(x) && inRange(y))) return undefined;
  const err = productError(x, y, p);
  return roundError(p, err, true, rm, fl);
}

/** The sign of x/y - q: the exact remainder x - q*y, over y. A quotient is never a tie. */
function quotientError(x: number, y: number, q: number): number {
  const p = q * y;
  return (x - p - productError(q, y, p)) * Math.sign(y);
}

export function div64(a: bigint, b: bigint, rm: number, fl: FpFlags): bigint | undefined {
  const x = toNumber(a);
  const y = toNumber(b);
  const q = x / y;
  if (!(inRange(q) && inRange(x) && inRange(y))) return undefined;
  return roundError(q, quotientError(x, y, q), false, rm, fl);
}

/** The sign of sqrt(x) - r: the exact x - r*r. A root is never a tie. */
function rootError(x: number, r: number): number {
  const p = r * r;
  return x - p - productError(r, r, p);
}

export function sqrt64(a: bigint, rm: number, fl: FpFlags): bigint | undefined {
  const x = toNumber(a);
  if (!(x > LOW && x < HIGH)) return undefined;
  const r = Math.sqrt(x);
  return roundError(r, rootError(x, r), false, rm, fl);
}

/**
 * a * b + c: the exact product uh + ul (TwoProduct), th + tl = c + uh
 * (TwoSum), v = tl + ul rounded to odd, then th + v rounded once by `rm`
 * (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums: proved
 * algorithms using rounding to odd", IEEE Trans. Computers 57(4), 2008).
 */
export function mulAdd64(a: bigint, b: bigint, c: bigint, rm: number, fl: FpFlags): bigint | undefined {
  const x = toNumber(a);
  const y = toNumber(b);
  const z = toNumber(c);
  const uh = x * y;
  if (!(inRange(uh) && inRange(x) && inRange(y) && inRange(z))) return undefined;
  const ul = productError(x, y, uh);
  const th = z + uh;
  if (!inRange(th)) return undefined;
  const tl = sumError(z, uh, th);
  const w = tl + ul;
  const v = toNumber(roundToOdd(w, sumError(tl, ul, w)));
  const r = th + v;
  if (!inRange(r)) return undefined;
  const err = sumError(th, v, r);
  return roundError(r, err, true, rm, fl);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A binary32 bit pattern as a number (exact). */
function widen(a: number): number {
  u32[0] = a;
  return f32[0];
}

const MIN_NORMAL32 = 2 ** -126;
const MAX_FINITE32 = (2 - 2 ** -23) * 2 ** 127;

/**
 * Rounds binary64 bits (round-to-odd of the exact result) to binary32 once,
 * by `rm`. Normal results below the largest finite value start from the
 * host's Math.fround (ECMA-262 21.3.2.17: roundTiesToEven to binary32) and
 * step to the neighbour `rm` asks for; others take the exact conversion.
 */
function narrow(bits: bigint, rm: number, fl: FpFlags): number {
  const d = toNumber(bits);
  f32[0] = d;
  const r = f32[0];
  if (!(Math.abs(d) >= MIN_NORMAL32 && Math.abs(r) < MAX_FINITE32)) {
    return Number(convertFormat(BINARY64, BINARY32, bits, rm, fl));
  }
  const rBits = u32[0];
  const err = d - r; // exact: d and r are within a binary32 ulp
  const tie = rm === RM_RMM && isTie(r, err, 2 ** (((rBits >>> 23) & 0xff) - 150));
  return rBits + direction(r, err, tie, rm, fl);
}

const finiteNonzero = (x: number): boolean => x !== 0 && Number.isFinite(x);

export function add32(a: number, b: number, rm: number, fl: FpFlags): number | undefined {
  const x = widen(a);
  const y = widen(b);
  const s = x + y;
  if (!finiteNonzero(s)) return undefined;
  return narrow(roundToOdd(s, sumError(x, y, s)), rm, fl);
}

export function mul32(a: number, b: number, rm: number, fl: FpFlags): number | undefined {
  const p = widen(a) * widen(b); // exact: 48 significant bits, exponent within binary64's normal range
  return finiteNonzero(p) ? narrow(toBits(p), rm, fl) : undefined;
}

export function div32(a: number, b: number, rm: number, fl: FpFlags): number | undefined {
  const x = widen(a);
  const y = widen(b);
  const q = x / y;
  if (!(finiteNonzero(q) && finiteNonzero(x) && Number.isFinite(y))) return undefined;
  return narrow(roundToOdd(q, quotientError(x, y, q)), rm, fl);
}

export function sqrt32(a: number, rm: number, fl: FpFlags): number | undefined {
  const x = widen(a);
  if (!(x > 0 && x < Number.POSITIVE_INFINITY)) return undefined;
  const r = Math.sqrt(x);
  return narrow(roundToOdd(r, rootError(x, r)), rm, fl);
}

export function mulAdd32(a: number, b: number, c: number, rm: number, fl: FpFlags): number | undefined {
  const p = widen(a) * widen(b); // exact
  const z = widen(c);
  const s = p + z;
  if (!(finiteNonzero(p) && finiteNonzero(s) && Number.isFinite(z))) return undefined;
  return narrow(roundToOdd(s, sumError(p, z, s)), rm, fl);
}

/** FCVT.D.S: exact, except NaNs (slow path: canonical NaN, NV for sNaN). */
export function widen32(a: number): bigint | undefined {
  const x = widen(a);
  return Number.isNaN(x) ? undefined : toBits(x);
}

/** FCVT.S.D. */
export function narrow64(a: bigint, rm: number, fl: FpFlags): number {
  return narrow(a, rm, fl);
}

/**
 * Rounds a finite x with |x| < 2^53 to an integer by `rm`, on the magnitude:
 * |x| - floor(|x|) is exact, unlike x - floor(x) for small negative x.
 */
function roundToInteger(x: number, rm: number): number {
  const m = Math.abs(x);
  const r = Math.floor(m);
  const frac = m - r;
  let up: boolean;
  switch (rm) {
    case RM_RTZ:
      up = false;
      break;
    case RM_RDN:
      up = frac > 0 && x < 0;
      break;
    case RM_RUP:
      up = frac > 0 && x > 0;
      break;
    case RM_RMM:
      up = frac >= 0.5;
      break;
    default:
      up = frac > 0.5 || (frac === 0.5 && r % 2 === 1);
  }
  const mag = up ? r + 1 : r;
  return x < 0 ? -mag : mag;
}

/** FCVT to an integer in [min, max] when |x| < 2^53 and the result is in range; NX when inexact. */
function toInteger(x: number, min: number, max: number, rm: number, fl: FpFlags): number | undefined {
  if (!(Math.abs(x) < 2 ** 53)) return undefined;
  const r = roundToInteger(x, rm);
  if (r < min || r > max) return undefined;
  if (r !== x) fl.flags |= FLAG_NX;
  return r + 0; // no -0
}

export function intFrom32(a: number, min: number, max: number, rm: number, fl: FpFlags): number | undefined {
  return toInteger(widen(a), min, max, rm, fl);
}

export function intFrom64(a: bigint, min: number, max: number, rm: number, fl: FpFlags): number | undefined {
  return toInteger(toNumber(a), min, max, rm, fl);
}

/** FCVT.D.W / FCVT.D.WU: every 32-bit integer is exact in binary64. */
export function exactInt64(v: number): bigint {
  return toBits(v);
}

/** FCVT.S.W / FCVT.S.WU in RNE through Math.fround (v is exact as a number). */
export function int32ToF32(v: number, rm: number, fl: FpFlags): number | undefined {
  if (rm !== RM_RNE) return undefined;
  f32[0] = v;
  if (f32[0] !== v) fl.flags |= FLAG_NX;
  return u32[0];
}

/** FCVT.D.L / FCVT.D.LU in RNE: Number(bigint) rounds to nearest, ties to even (ECMA-262 21.1.1.1). */
export function int64ToF64(v: bigint, rm: number, fl: FpFlags): bigint | undefined {
  if (rm !== RM_RNE) return undefined;
  const r = Number(v);
  if (Math.abs(r) >= 2 ** 53 && BigInt(r) !== v) fl.flags |= FLAG_NX;
  return toBits(r);
}
