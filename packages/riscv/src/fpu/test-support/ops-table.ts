/**
 * The FPU operations under test: how to call each one through the public API
 * from uint64 test operands, which RISC-V instruction runs it under QEMU, and
 * how to generate its operands.
 */
import type { FpFlags } from "../index.js";
import * as fpu from "../index.js";
import {
  addend,
  F32,
  F64,
  type Fmt,
  intBoundaryOperand,
  integer,
  integerEdges,
  nearMinNormal,
  operand,
  partner,
  type Rng,
  specials,
} from "./vectors.js";

export type ValueType = "f32" | "f64" | "i32" | "u32" | "i64" | "u64" | "bool" | "class";

export interface OpSpec {
  readonly name: string;
  readonly inputs: readonly ValueType[];
  readonly output: ValueType;
  /** Whether the instruction has a rounding-mode field that matters. */
  readonly rounds: boolean;
  /** RISC-V assembly computing the result into a0 from fa1..fa3 / a1. */
  readonly asm: string;
  /** Calls the API; returns its result as a bigint of the output type's range (signed for i32/i64). */
  run(x: readonly bigint[], rm: number, fl: FpFlags): bigint;
  gen(rng: Rng): bigint[];
}

/** Edge operands for every input position: the format's specials, or integer edges. */
export function edgeValues(t: ValueType): bigint[] {
  return t === "f32" ? specials(F32) : t === "f64" ? specials(F64) : integerEdges();
}

const n = Number;
const big = (v: number | bigint | boolean): bigint => BigInt(typeof v === "boolean" ? (v ? 1 : 0) : v);

/** Result register moves per output type. */
const move: Record<ValueType, string> = {
  f32: "fmv.x.w a0, fa0",
  f64: "fmv.x.d a0, fa0",
  i32: "",
  u32: "",
  i64: "",
  u64: "",
  bool: "",
  class: "",
};

function fmtOf(t: ValueType): Fmt {
  return t === "f32" ? F32 : F64;
}

type Api = typeof fpu;

function floatOps(w: "f32" | "f64"): OpSpec[] {
  const f = fmtOf(w);
  const s = w === "f32" ? "s" : "d";
  const api = fpu as Api;
  const P = (k: string) => `${w}${k}` as keyof Api;
  // biome-ignore lint/suspicious/noExplicitAny: the f32/f64 variants differ only in number vs bigint
  const call = (k: string, ...args: unknown[]): any => (api[P(k)] as (...a: unknown[]) => unknown)(...args);
  const v = (x: bigint): number | bigint => (w === "f32" ? n(x) : x);
  const ops: OpSpec[] = [];
  const bin = (name: string, mnem: string, shape: "add" | "mul" | "div") =>
    ops.push({
      name: `${w}${name}`,
      inputs: [w, w],
      output: w,
      rounds: true,
      asm: `${mnem}.${s} fa0, fa1, fa2\n${move[w]}`,
      run: (x, rm, fl) => big(call(name, v(x[0]), v(x[1]), rm, fl)),
      gen: (rng) => {
        const a = operand(rng, f);
        const tiny = shape !== "add" && rng.chance(0.2);
        return [a, tiny ? nearMinNormal(rng, f, shape, a) : partner(rng, f, shape, a)];
      },
    });
  bin("Add", "fadd", "add");
  bin("Sub", "fsub", "add");
  bin("Mul", "fmul", "mul");
  bin("Div", "fdiv", "div");
  ops.push({
    name: `${w}Sqrt`,
    inputs: [w],
    output: w,
    rounds: true,
    asm: `fsqrt.${s} fa0, fa1\n${move[w]}`,
    run: (x, rm, fl) => big(call("Sqrt", v(x[0]), rm, fl)),
    gen: (rng) => [operand(rng, f)],
  });
  ops.push({
    name: `${w}MulAdd`,
    inputs: [w, w, w],
    output: w,
    rounds: true,
    asm: `fmadd.${s} fa0, fa1, fa2, fa3\n${move[w]}`,
    run: (x, rm, fl) => big(call("MulAdd", v(x[0]), v(x[1]), v(x[2]), rm, fl)),
    gen: (rng) => {
      const a = operand(rng, f);
      const b = partner(rng, f, "mul", a);
      return [a, b, addend(rng, f, a, b)];
    },
  });
  const pair = (rng: Rng) => {
    const a = operand(rng, f);
    return [a, rng.chance(0.3) ? a ^ (rng.chance(0.5) ? 1n : 0n) : partner(rng, f, "add", a)];
  };
  for (const [name, mnem, out] of [
    ["Min", "fmin", w],
    ["Max", "fmax", w],
    ["Eq", "feq", "bool"],
    ["Lt", "flt", "bool"],
    ["Le", "fle", "bool"],
  ] as const) {
    const fp = out === w;
    ops.push({
      name: `${w}${name}`,
      inputs: [w, w],
      output: out,
      rounds: false,
      asm: fp ? `${mnem}.${s} fa0, fa1, fa2\n${move[w]}` : `${mnem}.${s} a0, fa1, fa2`,
      run: (x, _rm, fl) => big(call(name, v(x[0]), v(x[1]), fl)),
      gen: pair,
    });
  }
  ops.push({
    name: `${w}Classify`,
    inputs: [w],
    output: "class",
    rounds: false,
    asm: `fclass.${s} a0, fa1`,
    run: (x) => big(call("Classify", v(x[0]))),
    gen: (rng) => [operand(rng, f)],
  });
  for (const [it, mnem] of [
    ["i32", "w"],
    ["u32", "wu"],
    ["i64", "l"],
    ["u64", "lu"],
  ] as const) {
    const I = it.toUpperCase();
    ops.push({
      name: `${w}To${I}`,
      inputs: [w],
      output: it,
      rounds: true,
      asm: `fcvt.${mnem}.${s} a0, fa1`,
      run: (x, rm, fl) => big(call(`To${I}`, v(x[0]), rm, fl)),
      gen: (rng) => [rng.chance(0.7) ? intBoundaryOperand(rng, f) : operand(rng, f)],
    });
    ops.push({
      name: `${it}To${w.toUpperCase()}`,
      inputs: [it],
      output: w,
      rounds: true,
      asm: `fcvt.${s}.${mnem} fa0, a1\n${move[w]}`,
      run: (x, rm, fl) => {
        const fn = api[`${it}To${w.toUpperCase()}` as keyof Api] as (...a: unknown[]) => number | bigint;
        const arg =
          it === "i32" ? n(BigInt.asIntN(32, x[0])) : it === "u32" ? n(BigInt.asUintN(32, x[0])) : x[0];
        return big(fn(it === "i64" ? BigInt.asIntN(64, x[0]) : arg, rm, fl));
      },
      gen: (rng) => [integer(rng)],
    });
  }
  return ops;
}

export const OPS: readonly OpSpec[] = [
  ...floatOps("f32"),
  ...floatOps("f64"),
  {
    name: "f32ToF64",
    inputs: ["f32"],
    output: "f64",
    rounds: false,
    asm: `fcvt.d.s fa0, fa1\n${move.f64}`,
    run: (x, _rm, fl) => fpu.f32ToF64(n(x[0]), fl),
    gen: (rng) => [operand(rng, F32)],
  },
  {
    name: "f64ToF32",
    inputs: ["f64"],
    output: "f32",
    rounds: true,
    asm: `fcvt.s.d fa0, fa1\n${move.f32}`,
    run: (x, rm, fl) => BigInt(fpu.f64ToF32(x[0], rm, fl)),
    // around binary32's range: overflow, subnormal and underflow-threshold exponents
    gen: (rng) => [
      operand(
        rng,
        F64,
        rng.pick([1023 - 126, 1023 - 127, 1023 - 150, 1023 + 127, 1023 + 128]) + rng.int(-24, 2),
      ),
    ],
  },
];

/** The values the API may return for each output type. */
export const RANGE: Record<ValueType, readonly [bigint, bigint]> = {
  f32: [0n, 0xffffffffn],
  f64: [0n, 0xffffffffffffffffn],
  i32: [-(1n << 31n), (1n << 31n) - 1n],
  u32: [0n, 0xffffffffn],
  i64: [-(1n << 63n), (1n << 63n) - 1n],
  u64: [0n, 0xffffffffffffffffn],
  bool: [0n, 1n],
  class: [1n, 512n],
};

/** Width mask of a value type, for comparing results that RV64 sign-extends. */
export function mask(t: ValueType): bigint {
  return t === "f32" || t === "i32" || t === "u32" ? 0xffffffffn : 0xffffffffffffffffn;
}
