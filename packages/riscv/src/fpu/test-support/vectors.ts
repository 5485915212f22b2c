/**
 * Seeded test-vector generation for the FPU tests: random and edge-case
 * binary32/binary64 operands (zeros, subnormals, infinities, quiet and
 * signaling NaNs, extreme exponents, sparse and dense significands) and
 * operand pairs shaped to hit cancellation, halfway cases, tiny results near
 * the underflow threshold and near-overflow results. All operands and integers
 * are carried as uint64 bigint bit patterns (binary32 in the low 32 bits).
 */

/** A small, fast, seeded PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.u32() % xs.length];
  }
  chance(p: number): boolean {
    return this.u32() < p * 2 ** 32;
  }
}

export interface Fmt {
  readonly width: 32 | 64;
  readonly expBits: number;
  readonly fracBits: number;
  readonly bias: number;
}
export const F32: Fmt = { width: 32, expBits: 8, fracBits: 23, bias: 127 };
export const F64: Fmt = { width: 64, expBits: 11, fracBits: 52, bias: 1023 };

const maxExp = (f: Fmt): number => 2 ** f.expBits - 1;

/** Packs sign, biased exponent and fraction into a bit pattern. */
export function pack(f: Fmt, sign: boolean, bexp: number, frac: bigint): bigint {
  const fb = BigInt(f.fracBits);
  return (sign ? 1n << BigInt(f.width - 1) : 0n) | (BigInt(bexp) << fb) | (frac & ((1n << fb) - 1n));
}

/** A fraction field: uniform, sparse (a few set bits), dense (a few clear bits), zero or all ones. */
export function fraction(rng: Rng, f: Fmt): bigint {
  const fb = f.fracBits;
  const all = (1n << BigInt(fb)) - 1n;
  switch (rng.int(0, 5)) {
    case 0:
    case 1:
      return rng.u64() & all;
    case 2: {
      let x = 0n;
      for (let i = rng.int(1, 3); i > 0; i--) x |= 1n << BigInt(rng.int(0, fb - 1));
      return x;
    }
    case 3: {
      let x = all;
      for (let i = rng.int(1, 3); i > 0; i--) x &= ~(1n << BigInt(rng.int(0, fb - 1)));
      return x;
    }
    case 4:
      return rng.chance(0.5) ? 0n : all;
    default:
      // a run of ones or zeros in the low bits, to make long carries and ties
      return rng.chance(0.5)
        ? (1n << BigInt(rng.int(0, fb))) - 1n
        : all ^ ((1n << BigInt(rng.int(0, fb))) - 1n);
  }
}

/** The special operands of a format. */
export function specials(f: Fmt): bigint[] {
  const me = maxExp(f);
  const fb = BigInt(f.fracBits);
  const pos = [
    0n,
    pack(f, false, me, 0n), // inf
    pack(f, false, me, 1n << (fb - 1n)), // canonical qNaN
    pack(f, false, me, 1n), // sNaN
    pack(f, false, me, (1n << (fb - 1n)) - 1n), // sNaN, full payload
    pack(f, false, 0, 1n), // min subnormal
    pack(f, false, 0, (1n << fb) - 1n), // max subnormal
    pack(f, false, 1, 0n), // min normal
    pack(f, false, me - 1, (1n << fb) - 1n), // max finite
    pack(f, false, f.bias, 0n), // 1
    pack(f, false, f.bias - 1, 0n), // 0.5
    pack(f, false, f.bias + 1, 1n << (fb - 1n)), // 3
    pack(f, false, f.bias + 1, 1n << (fb - 2n)), // 2.5, an integer-conversion tie
    pack(f, false, f.bias - 2, (1n << fb) - 1n), // the largest value below 0.5, just below a tie
  ];
  return [...pos, ...pos.map((x) => x | (1n << BigInt(f.width - 1)))];
}

/** A random operand whose biased exponent is near `bexp` (when given), or anything at all. */
export function operand(rng: Rng, f: Fmt, bexp?: number): bigint {
  const sign = rng.chance(0.5);
  const me = maxExp(f);
  const r = rng.int(0, 99);
  if (r < 8) return rng.pick(specials(f));
  if (r < 11) return pack(f, sign, me, fraction(rng, f) | (rng.chance(0.5) ? 0n : 1n)); // NaNs (and inf)
  if (r < 18) return pack(f, sign, 0, fraction(rng, f)); // subnormals (and zero)
  if (r < 25) return rng.u64() & ((1n << BigInt(f.width)) - 1n); // raw bits
  if (bexp !== undefined && r < 80) {
    const e = Math.min(me - 1, Math.max(0, bexp));
    return pack(f, sign, e, fraction(rng, f));
  }
  const e = rng.chance(0.3) ? rng.pick([1, 2, me - 2, me - 1, f.bias, f.bias + 1]) : rng.int(1, me - 1);
  return pack(f, sign, e, fraction(rng, f));
}

export function biasedExp(f: Fmt, x: bigint): number {
  return Number((x >> BigInt(f.fracBits)) & BigInt(maxExp(f)));
}

/** A second operand for a binary operation, shaped by the operation's exponent arithmetic. */
export function partner(rng: Rng, f: Fmt, op: "add" | "mul" | "div", a: bigint): bigint {
  const ea = biasedExp(f, a);
  const p = f.fracBits + 1;
  const me = maxExp(f);
  const d = rng.int(-3, 3);
  switch (op) {
    case "add":
      // equal exponents (cancellation), one ulp below (halfway/sticky), or random
      return operand(rng, f, rng.pick([ea + d, ea - p + d, ea - p - 2 + d, rng.int(0, me)]));
    case "mul":
      // product near the underflow threshold, near overflow, or anywhere
      return operand(
        rng,
        f,
        rng.pick([f.bias - ea + d, f.bias - ea - rng.int(0, p + 2), 2 * f.bias - ea + d, rng.int(0, me)]),
      );
    default:
      // quotient near the underflow threshold, near overflow, or anywhere
      return operand(
        rng,
        f,
        rng.pick([ea + f.bias + d, ea + f.bias + rng.int(0, p + 2), ea - f.bias + d, rng.int(0, me)]),
      );
  }
}

const view = new DataView(new ArrayBuffer(8));

/** The host double/float value of a bit pattern (input shaping only, never expected results). */
function toHost(f: Fmt, x: bigint): number {
  if (f.width === 32) {
    view.setUint32(0, Number(x));
    return view.getFloat32(0);
  }
  view.setBigUint64(0, x);
  return view.getFloat64(0);
}

function fromHost(f: Fmt, v: number): bigint {
  if (f.width === 32) {
    view.setFloat32(0, v);
    return BigInt(view.getUint32(0));
  }
  view.setFloat64(0, v);
  return view.getBigUint64(0);
}

/** An addend for a * b + c: close to -(a * b) (massive cancellation), near the product's magnitude or ulp, or anything. */
export function addend(rng: Rng, f: Fmt, a: bigint, b: bigint): bigint {
  const prod = toHost(f, a) * toHost(f, b);
  const near = fromHost(f, f.width === 32 ? Math.fround(-prod) : -prod);
  const e = biasedExp(f, near);
  switch (rng.int(0, 4)) {
    case 0:
      return near;
    case 1:
      return near ^ BigInt(rng.int(1, 7)); // a few ulps off
    case 2:
      return operand(rng, f, e + rng.int(-2, 2));
    case 3:
      return operand(rng, f, e - f.fracBits - 1 + rng.int(-3, 3));
    default:
      return operand(rng, f);
  }
}

/**
 * A float near the integer-format boundaries and at ties: |x| about 2^k for
 * k in -3..66, or within an ulp of a half-integer (0.5, 1.5, 2.5, 2^31 - 0.5,
 * 2^32 - 0.5), of either sign.
 */
export function intBoundaryOperand(rng: Rng, f: Fmt): bigint {
  const sign = rng.chance(0.5);
  if (rng.chance(0.3)) {
    const half = rng.pick([0.5, 1.5, 2.5, 2 ** 31 - 0.5, 2 ** 32 - 0.5]);
    const near = fromHost(f, f.width === 32 ? Math.fround(half) : half) + BigInt(rng.int(-1, 1));
    return sign ? near | (1n << BigInt(f.width - 1)) : near;
  }
  const k = rng.pick([0, 1, 2, 30, 31, 32, 33, 52, 53, 62, 63, 64, 65, rng.int(-3, 66)]);
  const frac = rng.chance(0.5) ? fraction(rng, f) : 0n;
  return pack(f, sign, Math.max(0, f.bias + k), frac);
}

/** A random 64-bit integer pattern with a random magnitude (bit length) and sometimes a tie pattern. */
export function integer(rng: Rng): bigint {
  const len = rng.int(0, 64);
  let x = rng.u64() & ((1n << BigInt(len)) - 1n);
  if (rng.chance(0.3) && len > 2) x |= 1n << BigInt(len - 1); // full length
  if (rng.chance(0.5)) x = BigInt.asUintN(64, -x);
  return x;
}

/**
 * A multiplier (`op` "mul") or divisor ("div") that puts a * b or a / b within
 * a few ulps of the smallest normal 2^emin, where tininess before and after
 * rounding differ. Shaped with host arithmetic (input only).
 */
export function nearMinNormal(rng: Rng, f: Fmt, op: "mul" | "div", a: bigint): bigint {
  const minNormal = 2 ** (1 - f.bias);
  const x = Math.abs(toHost(f, a));
  const ideal = op === "mul" ? minNormal / x : x / minNormal;
  const rounded = f.width === 32 ? Math.fround(ideal) : ideal;
  if (!Number.isFinite(rounded) || rounded === 0) return operand(rng, f);
  const near = fromHost(f, rounded) + BigInt(rng.int(-2, 2));
  const b = near > 0n ? near : 1n;
  return rng.chance(0.5) ? b ^ (1n << BigInt(f.width - 1)) : b;
}

/** Integer operands at the edges of the integer and floating-point formats. */
export function integerEdges(): bigint[] {
  const xs = [0n, 1n, 2n, 3n, (1n << 24n) + 1n, (1n << 25n) + 3n, (1n << 53n) + 1n, (1n << 54n) + 3n];
  for (const k of [31n, 32n, 63n, 64n]) xs.push((1n << k) - 1n, 1n << k, (1n << k) + 1n);
  return xs.flatMap((x) => [BigInt.asUintN(64, x), BigInt.asUintN(64, -x)]);
}
