/// <reference types="node" />
/**
 * Judges every FPU operation against real peers, bit for bit and flag for
 * flag: the host CPU's SSE/FMA hardware (rm RNE..RUP) and QEMU's RISC-V hart
 * (all five rounding modes, plus the operations C cannot express the RISC-V
 * way: FMIN/FMAX, FCLASS, FCVT to integers). Seeded random and edge-case
 * vectors; BACKPLANE_LONG=1 runs 50 times as many, BACKPLANE_SEED=n another set.
 */
import { describe, expect, it } from "vitest";
import {
  haveHostCc,
  haveQemu,
  judgeOnHost,
  judgeOnQemu,
  type Vector,
  type Verdict,
} from "./test-support/judges.js";
import { edgeValues, mask, OPS, type OpSpec, RANGE } from "./test-support/ops-table.js";
import { Rng } from "./test-support/vectors.js";

const LONG = process.env.BACKPLANE_LONG === "1" ? 50 : 1;
const TIMEOUT = LONG > 1 ? 1_200_000 : 60_000;
/** BACKPLANE_SEED=n draws a different (still reproducible) set of random vectors. */
const SEED = Number(process.env.BACKPLANE_SEED ?? 0) * 0x9e3779b1;
const CANONICAL: Record<string, bigint> = { f32: 0x7fc00000n, f64: 0x7ff8000000000000n };

function isNaNBits(t: string, x: bigint): boolean {
  if (t === "f32") return (x & 0x7f800000n) === 0x7f800000n && (x & 0x7fffffn) !== 0n;
  return (x & 0x7ff0000000000000n) === 0x7ff0000000000000n && (x & 0xfffffffffffffn) !== 0n;
}

/**
 * Per op and rounding mode: every combination of edge operands (a core set
 * of them for the three-operand mulAdd), then `perMode` seeded random vectors.
 */
function vectors(ops: readonly OpSpec[], modes: readonly number[], perMode: number, seed: number): Vector[] {
  const rng = new Rng(seed);
  const out: Vector[] = [];
  // For three operands: zeros, infinities, NaNs, min subnormal, max finite and 1, of each sign.
  const core = (xs: bigint[], arity: number) =>
    arity < 3 ? xs : xs.filter((_, i) => [0, 1, 2, 3, 5, 8, 9].includes(i % 14));
  for (const op of ops) {
    let combos: bigint[][] = [[]];
    for (const t of op.inputs) {
      combos = combos.flatMap((c) => core(edgeValues(t), op.inputs.length).map((x) => [...c, x]));
    }
    for (const rm of op.rounds ? modes : [0]) {
      for (const args of combos) out.push({ op, rm, args });
      for (let i = 0; i < perMode * (op.rounds ? 1 : modes.length); i++) {
        const args = op.gen(rng);
        if (args.some((x, k) => x < 0n || x > (op.inputs[k] === "f32" ? 0xffffffffn : 0xffffffffffffffffn)))
          throw new Error(`bad ${op.name} operands ${args}`);
        out.push({ op, rm, args });
      }
    }
  }
  return out;
}

const show = (x: bigint) => `0x${x.toString(16)}`;

/** Our verdicts, through the public API (checked against its documented ranges), masked to the result width. */
function ours(vs: readonly Vector[]): Verdict[] {
  return vs.map((v) => {
    const fl = { flags: 0 };
    const raw = v.op.run(v.args, v.rm, fl);
    const [lo, hi] = RANGE[v.op.output];
    if (raw < lo || raw > hi)
      throw new Error(`${v.op.name} returned ${raw}, outside its ${v.op.output} range`);
    return { result: BigInt.asUintN(64, raw) & mask(v.op.output), flags: fl.flags };
  });
}

/** Compares our verdicts to the peer's (mapped to RISC-V by `adjust`); returns readable mismatches. */
function mismatches(
  vs: readonly Vector[],
  mine: readonly Verdict[],
  peer: readonly Verdict[],
  adjust: (v: Vector, p: Verdict) => Verdict,
): string[] {
  const bad: string[] = [];
  vs.forEach((v, i) => {
    const want = adjust(v, { result: peer[i].result & mask(v.op.output), flags: peer[i].flags });
    if (mine[i].result !== want.result || mine[i].flags !== want.flags) {
      const args = v.args.map(show).join(", ");
      bad.push(
        `${v.op.name} rm=${v.rm} (${args}): ours ${show(mine[i].result)}/${mine[i].flags}, peer ${show(want.result)}/${want.flags}`,
      );
    }
  });
  return bad;
}

const HOST_OPS = new Set(
  ["Add", "Sub", "Mul", "Div", "Sqrt", "MulAdd", "Eq", "Lt", "Le"].flatMap((o) => [`f32${o}`, `f64${o}`]),
);
for (const t of ["i32", "u32", "i64", "u64"]) for (const w of ["F32", "F64"]) HOST_OPS.add(`${t}To${w}`);
HOST_OPS.add("f32ToF64");
HOST_OPS.add("f64ToF32");

const isInf = (t: string, x: bigint) =>
  t === "f32" ? (x & 0x7fffffffn) === 0x7f800000n : (x & ~(1n << 63n)) === 0x7ff0000000000000n;
const isZero = (t: string, x: bigint) => (t === "f32" ? (x & 0x7fffffffn) === 0n : (x & ~(1n << 63n)) === 0n);

/**
 * Maps x86 behaviour to RISC-V: x86 NaN results are not canonical (RISC-V
 * section 11.3 requires the canonical NaN), and x86 FMA does not raise NV for
 * inf * 0 + qNaN, which RISC-V section 11.6 requires.
 */
function fromHost(v: Vector, p: Verdict): Verdict {
  const t = v.op.output;
  if ((t === "f32" || t === "f64") && isNaNBits(t, p.result)) {
    const [a, b] = v.args;
    const infTimesZero =
      v.op.name.endsWith("MulAdd") && ((isInf(t, a) && isZero(t, b)) || (isZero(t, a) && isInf(t, b)));
    return { result: CANONICAL[t], flags: infTimesZero ? p.flags | 16 : p.flags };
  }
  return p;
}

describe.skipIf(!haveHostCc)("FPU judged by the host CPU (x86 SSE/FMA, rm 0..3)", () => {
  const ops = OPS.filter((o) => HOST_OPS.has(o.name));
  it("detects tininess after rounding, like RISC-V (checked, not assumed)", () => {
    // (1 + 2^-52) * maxSubnormal = 2^-1022 * (1 - 2^-104): tiny before rounding, not after.
    const mul = OPS.find((o) => o.name === "f64Mul") as OpSpec;
    const [p] = judgeOnHost([{ op: mul, rm: 0, args: [0x3ff0000000000001n, 0x000fffffffffffffn] }]);
    expect(p).toEqual({ result: 0x0010000000000000n, flags: 1 });
  });
  for (const op of ops) {
    it(
      `${op.name} matches bit for bit`,
      () => {
        const vs = vectors(
          [op],
          [0, 1, 2, 3],
          750 * LONG,
          SEED + 0x5eed + op.name.length * 7919 + op.name.charCodeAt(3),
        );
        expect(mismatches(vs, ours(vs), judgeOnHost(vs), fromHost).slice(0, 8)).toEqual([]);
      },
      TIMEOUT,
    );
  }
});

describe.skipIf(!haveQemu)("FPU judged by QEMU's RISC-V hart (rm 0..4)", () => {
  it(
    "matches every operation bit for bit",
    () => {
      const vs = vectors(OPS, [0, 1, 2, 3, 4], 120 * LONG, SEED + 0xfeed);
      const mine = ours(vs);
      expect(mismatches(vs, mine, judgeOnQemu(OPS, vs, mine), (_v, p) => p).slice(0, 12)).toEqual([]);
    },
    TIMEOUT,
  );
});
