/**
 * Writes and assembles random programs from the generator for the
 * differential tests. `BACKPLANE_DIFF_COUNT` sets how many cases to run
 * (default: a CI-sized batch) and `BACKPLANE_DIFF_SEED` the first seed, so a
 * failing seed can be replayed alone.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD_DIR, buildProgram, type Program } from "./build.js";
import { generateProgram } from "./generator.js";

/** Cases per generated program (one emulator launch runs them all). */
export const CASES_PER_PROGRAM = 4;

export interface DiffPlan {
  firstSeed: number;
  programs: number;
}

/** How many generated programs to run, from the environment. */
export function diffPlan(defaultCases = 240): DiffPlan {
  const cases = Number(process.env.BACKPLANE_DIFF_COUNT ?? defaultCases);
  const firstSeed = Number(process.env.BACKPLANE_DIFF_SEED ?? 1);
  return { firstSeed, programs: Math.max(1, Math.ceil(cases / CASES_PER_PROGRAM)) };
}

/** Generates and assembles the program for `seed` into build/gen (rewritten only when the text changes). */
export function buildGenerated(seed: number): Program {
  const dir = join(BUILD_DIR, "gen");
  const source = join(dir, `gen_${seed}.S`);
  const text = generateProgram({ seed, cases: CASES_PER_PROGRAM });
  mkdirSync(dir, { recursive: true });
  let old: string | undefined;
  try {
    old = readFileSync(source, "utf8");
  } catch {
    old = undefined;
  }
  if (old !== text) writeFileSync(source, text);
  return buildProgram(source, dir);
}
