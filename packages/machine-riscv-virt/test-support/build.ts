/**
 * Assembles the test programs in packages/riscv/test/programs (and generated
 * ones, and the C benchmark guests in packages/riscv/test/bench) into ELF
 * files linked at 0x80000000 with riscv64-unknown-elf-gcc -nostdlib.
 * Programs named `rv32_*` are built for RV32GC, all others for RV64GC with
 * Zba/Zbb/Zbs. Output goes to this package's gitignored build folder; an ELF
 * is rebuilt only when it is older than its source or the shared runtime.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GCC } from "./tools.js";

const PACKAGE_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
/** packages/riscv/test: the programs and benchmark guests (data read from disk, never imported). */
export const RISCV_TEST_DIR = join(PACKAGE_DIR, "..", "riscv", "test");
export const PROGRAMS_DIR = join(RISCV_TEST_DIR, "programs");
export const BENCH_DIR = join(RISCV_TEST_DIR, "bench");
/** Gitignored output folder of this package. */
export const BUILD_DIR = join(PACKAGE_DIR, "build");
const INCLUDE_DIR = join(PROGRAMS_DIR, "include");
const RUNTIME = join(INCLUDE_DIR, "runtime.S");

export type Xlen = 32 | 64;

export interface Program {
  /** File name without `.S`. */
  name: string;
  xlen: Xlen;
  /** Absolute path of the built ELF. */
  elf: string;
}

/** The XLEN a program is built for, from its name. */
export function xlenOf(name: string): Xlen {
  return name.startsWith("rv32") ? 32 : 64;
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

export interface BuildOptions {
  /** Extra preprocessor definitions; they also suffix the program name (`crc32_SCALE_4`). */
  defines?: Readonly<Record<string, number>>;
  /** Link the shared runtime (entry, printing, exit); default true. */
  runtime?: boolean;
}

/** Assembles one `.S` file (or compiles a freestanding `.c` file at -O2) into `outDir`; returns the program. */
export function buildProgram(source: string, outDir = BUILD_DIR, options: BuildOptions = {}): Program {
  const defines = options.defines ?? {};
  const runtime = options.runtime ?? true;
  const isC = source.endsWith(".c");
  const suffix = Object.entries(defines)
    .map(([k, v]) => `_${k}_${v}`)
    .join("");
  const name = basename(source, isC ? ".c" : ".S") + suffix;
  const xlen = xlenOf(name);
  const elf = join(outDir, `${name}.elf`);
  const newest = Math.max(mtime(source), mtime(RUNTIME), mtime(join(INCLUDE_DIR, "bp.h")));
  if (mtime(elf) < newest) {
    mkdirSync(outDir, { recursive: true });
    const arch =
      xlen === 64 ? ["-march=rv64gc_zba_zbb_zbs", "-mabi=lp64d"] : ["-march=rv32gc", "-mabi=ilp32d"];
    execFileSync(
      GCC,
      [
        ...arch,
        "-nostdlib",
        "-nostartfiles",
        ...(isC ? ["-O2", "-mcmodel=medany", "-ffreestanding", "-fno-builtin"] : []),
        ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`),
        `-I${INCLUDE_DIR}`,
        "-T",
        join(INCLUDE_DIR, "link.ld"),
        "-Wl,--no-warn-rwx-segments",
        "-o",
        elf,
        ...(runtime ? [RUNTIME] : []),
        source,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
  }
  return { name, xlen, elf };
}

/** Assembles every hand-written program in ../programs. */
export function buildPrograms(): Program[] {
  return readdirSync(PROGRAMS_DIR)
    .filter((f) => f.endsWith(".S"))
    .sort()
    .map((f) => buildProgram(join(PROGRAMS_DIR, f)));
}
