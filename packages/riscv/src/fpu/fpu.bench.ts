/**
 * Throughput of the binary64 add, mul and fused multiply-add on random normal
 * operands (bit patterns as the hart holds them), beside the host's native
 * binary64 arithmetic (RNE, no flags) as the ceiling.
 * Run: cd packages/riscv && npx vitest bench --run src/fpu
 */
import { bench, describe } from "vitest";
import { f32Add, f32Mul, f32MulAdd, f64Add, f64Div, f64Mul, f64MulAdd, RM_RNE, RM_RUP } from "./index.js";

const N = 1024;
const view = new DataView(new ArrayBuffer(8));
let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const nums = Array.from({ length: N }, () => (rand() - 0.5) * 2 ** Math.floor(rand() * 64 - 32));
const bits64 = nums.map((x) => {
  view.setFloat64(0, x);
  return view.getBigUint64(0);
});
const bits32 = nums.map((x) => {
  view.setFloat32(0, x);
  return view.getUint32(0);
});
/** Subnormal operands: their products underflow, which only the exact soft-float path handles. */
const tiny64 = bits64.map((x) => x & 0x800fffffffffffffn);
const fl = { flags: 0 };
let sink: unknown;

describe("binary64, 1024 ops per iteration", () => {
  bench("native JS a + b (ceiling)", () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += nums[i] + nums[(i + 1) & (N - 1)];
    sink = s;
  });
  bench("f64Add RNE", () => {
    for (let i = 0; i < N; i++) sink = f64Add(bits64[i], bits64[(i + 1) & (N - 1)], RM_RNE, fl);
  });
  bench("f64Add RUP", () => {
    for (let i = 0; i < N; i++) sink = f64Add(bits64[i], bits64[(i + 1) & (N - 1)], RM_RUP, fl);
  });
  bench("f64Mul RNE", () => {
    for (let i = 0; i < N; i++) sink = f64Mul(bits64[i], bits64[(i + 1) & (N - 1)], RM_RNE, fl);
  });
  bench("f64Div RNE", () => {
    for (let i = 0; i < N; i++) sink = f64Div(bits64[i], bits64[(i + 1) & (N - 1)], RM_RNE, fl);
  });
  bench("f64Mul subnormal x normal (soft-float path)", () => {
    for (let i = 0; i < N; i++) sink = f64Mul(tiny64[i], bits64[(i + 1) & (N - 1)], RM_RNE, fl);
  });
  bench("f64MulAdd RNE", () => {
    for (let i = 0; i < N; i++)
      sink = f64MulAdd(bits64[i], bits64[(i + 1) & (N - 1)], bits64[(i + 2) & (N - 1)], RM_RNE, fl);
  });
});

describe("binary32, 1024 ops per iteration", () => {
  bench("f32Add RNE", () => {
    for (let i = 0; i < N; i++) sink = f32Add(bits32[i], bits32[(i + 1) & (N - 1)], RM_RNE, fl);
  });
  bench("f32Mul RNE", () => {
    for (let i = 0; i < N; i++) sink = f32Mul(bits32[i], bits32[(i + 1) & (N - 1)], RM_RNE, fl);
  });
  bench("f32MulAdd RNE", () => {
    for (let i = 0; i < N; i++)
      sink = f32MulAdd(bits32[i], bits32[(i + 1) & (N - 1)], bits32[(i + 2) & (N - 1)], RM_RNE, fl);
  });
});

export { sink };
