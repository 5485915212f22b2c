/**
 * Generic IEEE 754-2008 binary floating-point arithmetic on bit patterns,
 * shared by the binary32 (F) and binary64 (D) operations of the RISC-V
 * unprivileged ISA 20191213, chapters 11 (F) and 12 (D).
 *
 * Values are unpacked into exact integers: a finite value is
 * (-1)^sign * sig * 2^exp with `sig` a bigint. Every operation computes its
 * exact result (or enough quotient/root bits plus a sticky bit), then
 * `roundPack` rounds once, per section 11.2: tininess is detected after
 * rounding, NaN results are the canonical NaN, and the five rounding modes
 * RNE, RTZ, RDN, RUP, RMM are supported.
 *
 * Deviation: none known; NaN payloads are never propagated (RISC-V does not
 * propagate them either, section 11.3).
 */

/** fflags bits (section 11.2, Table 11.2). */
export const FLAG_NX = 1;
export const FLAG_UF = 2;
export const FLAG_OF = 4;
export const FLAG_DZ = 8;
export const FLAG_NV = 16;

/** Rounding-mode encodings of the rm field (section 11.2, Table 11.1). */
export const RM_RNE = 0;
export const RM_RTZ = 1;
export const RM_RDN = 2;
export const RM_RUP = 3;
export const RM_RMM = 4;

/** Accrued exception flags; operations OR fflags bits into `flags`. */
export interface FpFlags {
  flags: number;
}

/** An IEEE 754 binary interchange format. */
export interface BinaryFormat {
  /** Trailing significand field width (23 or 52). */
  readonly fracBits: number;
  /** Precision p = fracBits + 1. */
  readonly precision: number;
  /** Exponent bias = emax. */
  readonly bias: number;
  /** Field mask of the biased exponent (after shifting down by fracBits). */
  readonly expMask: bigint;
  readonly fracMask: bigint;
  readonly signBit: bigint;
  readonly infBits: bigint;
  readonly canonicalNaN: bigint;
  /** Quiet bit: the most significant trailing-significand bit. */
  readonly quietBit: bigint;
  readonly maxFinite: bigint;
}

function makeFormat(expWidth: number, fracBits: number): BinaryFormat {
  const expMask = (1n << BigInt(expWidth)) - 1n;
  const fb = BigInt(fracBits);
  const infBits = expMask << fb;
  return {
    fracBits,
    precision: fracBits + 1,
    bias: 2 ** (expWidth - 1) - 1,
    expMask,
    fracMask: (1n << fb) - 1n,
    signBit: 1n << BigInt(expWidth + fracBits),
    infBits,
    canonicalNaN: infBits | (1n << (fb - 1n)),
    quietBit: 1n << (fb - 1n),
    maxFinite: infBits - 1n,
  };
}

export const BINARY32: BinaryFormat = makeFormat(8, 23);
export const BINARY64: BinaryFormat = makeFormat(11, 52);

/** Classes of an unpacked operand. */
const Kind = { Zero: 0, Finite: 1, Inf: 2, QNaN: 3, SNaN: 4 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** An unpacked operand; for `Finite`, the value is (-1)^sign * sig * 2^exp with sig > 0. */
interface Unpacked {
  kind: Kind;
  sign: boolean;
  sig: bigint;
  exp: number;
}

function unpack(f: BinaryFormat, bits: bigint): Unpacked {
  const sign = (bits & f.signBit) !== 0n;
  const be = (bits >> BigInt(f.fracBits)) & f.expMask;
  const frac = bits & f.fracMask;
  if (be === f.expMask) {
    if (frac === 0n) return { kind: Kind.Inf, sign, sig: 0n, exp: 0 };
    return { kind: (frac & f.quietBit) !== 0n ? Kind.QNaN : Kind.SNaN, sign, sig: 0n, exp: 0 };
  }
  if (be === 0n) {
    if (frac === 0n) return { kind: Kind.Zero, sign, sig: 0n, exp: 0 };
    return { kind: Kind.Finite, sign, sig: frac, exp: 1 - f.bias - f.fracBits };
  }
  return { kind: Kind.Finite, sign, sig: frac | (f.fracMask + 1n), exp: Number(be) - f.bias - f.fracBits };
}

function isNaNKind(k: Kind): boolean {
  return k === Kind.QNaN || k === Kind.SNaN;
}

/** Number of significant bits of a positive bigint. */
function bitLength(n: bigint): number {
  if (n < 0x100000000n) return 32 - Math.clz32(Number(n));
  if (n < 0x20000000000000n) return 64 - Math.clz32(Math.floor(Number(n) / 0x100000000));
  let len = 0;
  let m = n;
  while (m >= 0x20000000000000n) {
    m >>= 48n;
    len += 48;
  }
  return len + bitLength(m);
}

/**
 * Rounds the magnitude `sig * 2^-shift` to an integer by `rm` (the sign
 * matters for RDN/RUP); `sticky` means the true magnitude is slightly above
 * `sig * 2^-shift` and requires shift >= 2. Returns [rounded, inexact].
 */
function roundShift(
  sig: bigint,
  shift: number,
  sticky: boolean,
  negative: boolean,
  rm: number,
): [bigint, boolean] {
  if (shift <= 0) return [sig << BigInt(-shift), false];
  const s = BigInt(shift);
  const kept = sig >> s;
  const rem = sig & ((1n << s) - 1n);
  if (rem === 0n && !sticky) return [kept, false];
  const half = 1n << (s - 1n);
  let up: boolean;
  switch (rm) {
    case RM_RNE:
      up = rem > half || (rem === half && (sticky || (kept & 1n) === 1n));
      break;
    case RM_RMM:
      up = rem >= half;
      break;
    default:
      up = roundUpBelowHalf(negative, rm);
  }
  return [up ? kept + 1n : kept, true];
}

/** Directed-mode decision for a discarded part strictly between 0 and half an ulp (and beyond, for RTZ/RDN/RUP). */
function roundUpBelowHalf(negative: boolean, rm: number): boolean {
  return (rm === RM_RUP && !negative) || (rm === RM_RDN && negative);
}

/** Largest finite magnitude or infinity, as the overflow result for `rm` (section 11.2 / IEEE 754 7.4). */
function overflowResult(f: BinaryFormat, negative: boolean, rm: number): bigint {
  const toInf = rm === RM_RNE || rm === RM_RMM || (rm === RM_RUP && !negative) || (rm === RM_RDN && negative);
  return (negative ? f.signBit : 0n) | (toInf ? f.infBits : f.maxFinite);
}

/**
 * Rounds (-1)^negative * (sig + sticky) * 2^exp (sig > 0, sticky = "a little
 * more") to format `f`, raising NX, UF (tiny after rounding and inexact) and OF.
 * Callers with `sticky` set guarantee sig has at least precision + 2 bits.
 */
function roundPack(
  f: BinaryFormat,
  negative: boolean,
  sig: bigint,
  exp: number,
  sticky: boolean,
  rm: number,
  fl: FpFlags,
): bigint {
  const p = f.precision;
  const emin = 1 - f.bias;
  const len = bitLength(sig);
  const top = exp + len - 1; // exponent of the leading bit
  const signBits = negative ? f.signBit : 0n;
  const lsbExp = Math.max(top, emin) - (p - 1);
  let [kept, inexact] = roundShift(sig, lsbExp - exp, sticky, negative, rm);
  if (inexact) {
    let flags = FLAG_NX;
    if (top < emin) {
      // Tiny after rounding: the value rounded to p bits with unbounded exponent stays below 2^emin.
      const tiny = top < emin - 1 || roundShift(sig, len - p, sticky, negative, rm)[0] >> BigInt(p) === 0n;
      if (tiny) flags |= FLAG_UF;
    }
    fl.flags |= flags;
  }
  // kept * 2^lsbExp, kept <= 2^p.
  let eBiased = lsbExp + (p - 1) + f.bias;
  if (kept >> BigInt(p) !== 0n) {
    kept >>= 1n;
    eBiased += 1;
  }
  if (eBiased >= 2 * f.bias + 1) {
    fl.flags |= FLAG_OF | FLAG_NX;
    return overflowResult(f, negative, rm);
  }
  if (kept >> BigInt(p - 1) === 0n) return signBits | kept; // subnormal or zero
  return signBits | (BigInt(eBiased) << BigInt(f.fracBits)) | (kept & f.fracMask);
}

/** The canonical NaN, raising NV when `invalid`. */
function nanResult(f: BinaryFormat, invalid: boolean, fl: FpFlags): bigint {
  if (invalid) fl.flags |= FLAG_NV;
  return f.canonicalNaN;
}

function zero(f: BinaryFormat, negative: boolean): bigint {
  return negative ? f.signBit : 0n;
}

function inf(f: BinaryFormat, negative: boolean): bigint {
  return negative ? f.signBit | f.infBits : f.infBits;
}

/**
 * Rounds the exact sum of two finite-or-zero terms (-1)^s * sig * 2^exp
 * (sig may be 0). An exact zero sum of opposite-signed terms is +0, or -0 in
 * RDN (IEEE 754 6.3).
 */
function addTerms(
  f: BinaryFormat,
  sa: boolean,
  ma: bigint,
  ea: number,
  sb: boolean,
  mb: bigint,
  eb: number,
  rm: number,
  fl: FpFlags,
): bigint {
  if (ma === 0n && mb === 0n) return zero(f, sa === sb ? sa : rm === RM_RDN);
  if (ma === 0n) return roundPack(f, sb, mb, eb, false, rm, fl);
  if (mb === 0n) return roundPack(f, sa, ma, ea, false, rm, fl);
  // A term lying wholly below a quarter of both the other term's lowest bit
  // and the result's rounding resolution acts only through its sign and
  // nonzeroness: swap in the stand-in 2^floor to keep the integers small.
  const ta = ea + bitLength(ma) - 1;
  const tb = eb + bitLength(mb) - 1;
  if (tb < ta && tb <= Math.min(ea, ta - f.precision - 1) - 2) {
    eb = Math.min(ea, ta - f.precision - 1) - 2;
    mb = 1n;
  } else if (ta < tb && ta <= Math.min(eb, tb - f.precision - 1) - 2) {
    ea = Math.min(eb, tb - f.precision - 1) - 2;
    ma = 1n;
  }
  const e = Math.min(ea, eb);
  const a = ma << BigInt(ea - e);
  const b = mb << BigInt(eb - e);
  const sum = (sa ? -a : a) + (sb ? -b : b);
  if (sum === 0n) return zero(f, rm === RM_RDN);
  return sum < 0n ? roundPack(f, true, -sum, e, false, rm, fl) : roundPack(f, false, sum, e, false, rm, fl);
}

export function add(f: BinaryFormat, a: bigint, b: bigint, rm: number, fl: FpFlags): bigint {
  const x = unpack(f, a);
  const y = unpack(f, b);
  if (isNaNKind(x.kind) || isNaNKind(y.kind))
    return nanResult(f, x.kind === Kind.SNaN || y.kind === Kind.SNaN, fl);
  if (x.kind === Kind.Inf) return y.kind === Kind.Inf && x.sign !== y.sign ? nanResult(f, true, fl) : a;
  if (y.kind === Kind.Inf) return b;
  return addTerms(f, x.sign, x.sig, x.exp, y.sign, y.sig, y.exp, rm, fl);
}

export function mul(f: BinaryFormat, a: bigint, b: bigint, rm: number, fl: FpFlags): bigint {
  const x = unpack(f, a);
  const y = unpack(f, b);
  if (isNaNKind(x.kind) || isNaNKind(y.kind))
    return nanResult(f, x.kind === Kind.SNaN || y.kind === Kind.SNaN, fl);
  const sign = x.sign !== y.sign;
  if (x.kind === Kind.Inf || y.kind === Kind.Inf) {
    return x.kind === Kind.Zero || y.kind === Kind.Zero ? nanResult(f, true, fl) : inf(f, sign);
  }
  if (x.kind === Kind.Zero || y.kind === Kind.Zero) return zero(f, sign);
  return roundPack(f, sign, x.sig * y.sig, x.exp + y.exp, false, rm, fl);
}

/** a * b + c with a single rounding (IEEE 754 5.4.1 fusedMultiplyAdd; RISC-V section 11.6). */
export function mulAdd(f: BinaryFormat, a: bigint, b: bigint, c: bigint, rm: number, fl: FpFlags): bigint {
  const x = unpack(f, a);
  const y = unpack(f, b);
  const z = unpack(f, c);
  const infTimesZero =
    (x.kind === Kind.Inf && y.kind === Kind.Zero) || (x.kind === Kind.Zero && y.kind === Kind.Inf);
  // Section 11.6: inf * 0 is invalid even when the addend is a quiet NaN.
  if (infTimesZero) return nanResult(f, true, fl);
  if (isNaNKind(x.kind) || isNaNKind(y.kind) || isNaNKind(z.kind)) {
    return nanResult(f, x.kind === Kind.SNaN || y.kind === Kind.SNaN || z.kind === Kind.SNaN, fl);
  }
  const ps = x.sign !== y.sign;
  if (x.kind === Kind.Inf || y.kind === Kind.Inf) {
    return z.kind === Kind.Inf && z.sign !== ps ? nanResult(f, true, fl) : inf(f, ps);
  }
  if (z.kind === Kind.Inf) return c;
  return addTerms(f, ps, x.sig * y.sig, x.exp + y.exp, z.sign, z.sig, z.exp, rm, fl);
}

export function div(f: BinaryFormat, a: bigint, b: bigint, rm: number, fl: FpFlags): bigint {
  const x = unpack(f, a);
  const y = unpack(f, b);
  if (isNaNKind(x.kind) || isNaNKind(y.kind))
    return nanResult(f, x.kind === Kind.SNaN || y.kind === Kind.SNaN, fl);
  const sign = x.sign !== y.sign;
  if (x.kind === Kind.Inf) return y.kind === Kind.Inf ? nanResult(f, true, fl) : inf(f, sign);
  if (y.kind === Kind.Inf) return zero(f, sign);
  if (y.kind === Kind.Zero) {
    if (x.kind === Kind.Zero) return nanResult(f, true, fl);
    fl.flags |= FLAG_DZ;
    return inf(f, sign);
  }
  if (x.kind === Kind.Zero) return zero(f, sign);
  // Quotient with at least p + 2 bits, remainder folded into the sticky bit.
  const k = Math.max(0, f.precision + 2 + bitLength(y.sig) - bitLength(x.sig));
  const num = x.sig << BigInt(k);
  const q = num / y.sig;
  return roundPack(f, sign, q, x.exp - y.exp - k, q * y.sig !== num, rm, fl);
}

/** Floor of the square root of n > 0. */
function isqrt(n: bigint): bigint {
  let r = BigInt(Math.floor(Math.sqrt(Number(n))));
  if (r === 0n) r = 1n;
  r = (r + n / r) >> 1n;
  while (r * r > n) r -= 1n;
  while ((r + 1n) * (r + 1n) <= n) r += 1n;
  return r;
}

export function sqrt(f: BinaryFormat, a: bigint, rm: number, fl: FpFlags): bigint {
  const x = unpack(f, a);
  if (isNaNKind(x.kind)) return nanResult(f, x.kind === Kind.SNaN, fl);
  if (x.kind === Kind.Zero) return a;
  if (x.sign) return nanResult(f, true, fl);
  if (x.kind === Kind.Inf) return a;
  // Radicand with an even exponent and at least 2(p + 2) bits, so the root has p + 2.
  let sig = x.sig;
  let exp = x.exp;
  let pad = Math.max(0, 2 * (f.precision + 2) - bitLength(sig));
  if ((exp - pad) % 2 !== 0) pad += 1;
  sig <<= BigInt(pad);
  exp -= pad;
  const r = isqrt(sig);
  return roundPack(f, false, r, exp / 2, r * r !== sig, rm, fl);
}

/** Ordering key of a non-NaN operand; -0 and +0 get the same key. */
function orderKey(x: Unpacked): number {
  if (x.kind === Kind.Zero) return 0;
  return x.sign ? -1 : 1;
}

/** Compares two non-NaN operands: negative, zero or positive (-0 == +0). */
function compare(f: BinaryFormat, a: bigint, b: bigint, x: Unpacked, y: Unpacked): number {
  const ka = orderKey(x);
  const kb = orderKey(y);
  if (ka !== kb || ka === 0) return ka - kb;
  const ma = a & ~f.signBit;
  const mb = b & ~f.signBit;
  const c = ma === mb ? 0 : ma < mb ? -1 : 1;
  return x.sign ? -c : c;
}

/** FEQ (quiet comparison: NV only for a signaling NaN), section 11.8. */
export function eq(f: BinaryFormat, a: bigint, b: bigint, fl: FpFlags): boolean {
  const x = unpack(f, a);
  const y = unpack(f, b);
  if (isNaNKind(x.kind) || isNaNKind(y.kind)) {
    if (x.kind === Kind.SNaN || y.kind === Kind.SNaN) fl.flags |= FLAG_NV;
    return false;
  }
  return compare(f, a, b, x, y) === 0;
}

/** FLT / FLE (signaling comparisons: NV for any NaN), section 11.8. */
export function lessThan(f: BinaryFormat, a: bigint, b: bigint, orEqual: boolean, fl: FpFlags): boolean {
  const x = unpack(f, a);
  const y = unpack(f, b);
  if (isNaNKind(x.kind) || isNaNKind(y.kind)) {
    fl.flags |= FLAG_NV;
    return false;
  }
  const c = compare(f, a, b, x, y);
  return orEqual ? c <= 0 : c < 0;
}

/**
 * FMIN / FMAX: IEEE 754-2019 minimumNumber / maximumNumber (section 11.6,
 * version 2.2 of F): -0 < +0, a single NaN operand yields the other operand,
 * two NaNs yield the canonical NaN, and a signaling NaN raises NV.
 */
export function minMax(f: BinaryFormat, a: bigint, b: bigint, max: boolean, fl: FpFlags): bigint {
  const x = unpack(f, a);
  const y = unpack(f, b);
  if (x.kind === Kind.SNaN || y.kind === Kind.SNaN) fl.flags |= FLAG_NV;
  const xn = isNaNKind(x.kind);
  const yn = isNaNKind(y.kind);
  if (xn && yn) return f.canonicalNaN;
  if (xn) return b;
  if (yn) return a;
  let c = compare(f, a, b, x, y);
  if (c === 0) c = (x.sign ? -1 : 0) - (y.sign ? -1 : 0); // -0 < +0
  return c < 0 === max ? b : a;
}

/** FCLASS: the 10-bit class mask of section 11.9, Table 11.5. */
export function classify(f: BinaryFormat, a: bigint): number {
  const x = unpack(f, a);
  switch (x.kind) {
    case Kind.Zero:
      return x.sign ? 1 << 3 : 1 << 4;
    case Kind.Inf:
      return x.sign ? 1 << 0 : 1 << 7;
    case Kind.SNaN:
      return 1 << 8;
    case Kind.QNaN:
      return 1 << 9;
    default: {
      const subnormal = x.sig >> BigInt(f.fracBits) === 0n;
      if (x.sign) return subnormal ? 1 << 2 : 1 << 1;
      return subnormal ? 1 << 5 : 1 << 6;
    }
  }
}

/** FCVT between formats: exact widening or rounded narrowing; NaN becomes the canonical NaN. */
export function convertFormat(
  from: BinaryFormat,
  to: BinaryFormat,
  a: bigint,
  rm: number,
  fl: FpFlags,
): bigint {
  const x = unpack(from, a);
  switch (x.kind) {
    case Kind.QNaN:
    case Kind.SNaN:
      return nanResult(to, x.kind === Kind.SNaN, fl);
    case Kind.Inf:
      return inf(to, x.sign);
    case Kind.Zero:
      return zero(to, x.sign);
    default:
      return roundPack(to, x.sign, x.sig, x.exp, false, rm, fl);
  }
}

/** An integer format: its range, and the Table 11.4 results for NaN and out-of-range inputs. */
export interface IntFormat {
  readonly min: bigint;
  readonly max: bigint;
}

export const INT32: IntFormat = { min: -(1n << 31n), max: (1n << 31n) - 1n };
export const UINT32: IntFormat = { min: 0n, max: (1n << 32n) - 1n };
export const INT64: IntFormat = { min: -(1n << 63n), max: (1n << 63n) - 1n };
export const UINT64: IntFormat = { min: 0n, max: (1n << 64n) - 1n };

/**
 * FCVT.{W,WU,L,LU}: rounds to an integer by `rm`. Invalid inputs (NaN, or a
 * rounded value outside the range) raise NV only and return per section
 * 11.7, Table 11.4: the range maximum for NaN and for too-large values, the
 * minimum for too-small ones. Otherwise NX when inexact.
 */
export function toInt(f: BinaryFormat, it: IntFormat, a: bigint, rm: number, fl: FpFlags): bigint {
  const x = unpack(f, a);
  if (isNaNKind(x.kind)) {
    fl.flags |= FLAG_NV;
    return it.max;
  }
  if (x.kind === Kind.Inf) {
    fl.flags |= FLAG_NV;
    return x.sign ? it.min : it.max;
  }
  if (x.kind === Kind.Zero) return 0n;
  // Values of 2^65 or more are out of every range; skip building huge integers.
  if (x.exp + bitLength(x.sig) > 65) {
    fl.flags |= FLAG_NV;
    return x.sign ? it.min : it.max;
  }
  const [mag, inexact] = roundShift(x.sig, -x.exp, false, x.sign, rm);
  const v = x.sign ? -mag : mag;
  if (v < it.min || v > it.max) {
    fl.flags |= FLAG_NV;
    return x.sign ? it.min : it.max;
  }
  if (inexact) fl.flags |= FLAG_NX;
  return v;
}

/** FCVT.{S,D}.{W,WU,L,LU}: rounds an integer to format `f`. */
export function fromInt(f: BinaryFormat, v: bigint, rm: number, fl: FpFlags): bigint {
  if (v === 0n) return 0n;
  return v < 0n ? roundPack(f, true, -v, 0, false, rm, fl) : roundPack(f, false, v, 0, false, rm, fl);
}
