/** Shared helpers of the `backplane img` tests: in-process runs, qemu availability, fixtures, seeded randomness. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type DiskImage, findFormat } from "@backplane/disk";
import { registerAllFormats } from "../src/img/formats.js";
import { main } from "../src/img/index.js";

registerAllFormats();

/** The command line that runs `backplane img ARGS` from the sources in a process of its own (through tsx). */
export function imgCommand(...args: string[]): string[] {
  const loader = createRequire(import.meta.url).resolve("tsx");
  const main = join(import.meta.dirname, "../src/main.ts");
  return [process.execPath, "--conditions=source", "--import", loader, main, "img", ...args];
}

/** The formats `backplane img` should handle, by qemu name. */
export const FORMATS = ["raw", "qcow2", "vpc", "vmdk", "vdi"] as const;

/** True when a driver for `format` is registered (its package exports one). */
export function hasFormat(format: string): boolean {
  return findFormat(format) !== undefined;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `backplane img ...argv` in-process. */
export async function img(...argv: string[]): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

export function has(cmd: string): boolean {
  return spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
}

/** qemu-img and qemu-io are both installed. */
export const QEMU = has("qemu-img") && has("qemu-io");
if (!QEMU) console.warn("qemu-img/qemu-io not found: oracle tests are skipped (apt-get install qemu-utils)");

/** Runs qemu-img; returns exit status and output. */
export function qemuImg(...args: string[]): RunResult {
  const r = spawnSync("qemu-img", args, { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs qemu-io with one -c per command; throws on failure. */
export function qemuIo(format: string, file: string, commands: string[]): void {
  execFileSync("qemu-io", ["-f", format, ...commands.flatMap((c) => ["-c", c]), file], { stdio: "pipe" });
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "bp-img-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const FIXTURES = join(import.meta.dirname, "fixtures");

/** Unpacks fixture `name` (e.g. "small.qcow2") into `dir`; returns its path. */
export function unpackFixture(name: string, dir: string): string {
  const path = join(dir, name);
  writeFileSync(path, gunzipSync(readFileSync(join(FIXTURES, `${name}.gz`))));
  return path;
}

export function fixtureContents(name: string): Uint8Array {
  return gunzipSync(readFileSync(join(FIXTURES, `${name}.contents.gz`)));
}

export function fixtureJson(name: string, kind: "map" | "info"): unknown {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.${kind}.json`), "utf8"));
}

/** Deterministic pseudo-random numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Index of the first differing byte, -1 when equal (length difference counts). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Keeps only the keys both objects have. */
export function common<T extends object>(ours: T, theirs: object): [Partial<T>, Partial<T>] {
  const a: Record<string, unknown> = {};
  const b: Record<string, unknown> = {};
  for (const k of Object.keys(ours)) {
    if (k in theirs) {
      a[k] = (ours as Record<string, unknown>)[k];
      b[k] = (theirs as Record<string, unknown>)[k];
    }
  }
  return [a as Partial<T>, b as Partial<T>];
}

/** Seeded operation sequences shared by the oracle tests (BACKPLANE_LONG=1: longer and more seeds). */
export const LONG = process.env.BACKPLANE_LONG === "1";
export const OPS = LONG ? 400 : 24;
export const SEEDS = LONG ? [1, 2, 3, 4, 5, 6, 7, 8] : [1];
export const SIZE = 4 << 20;
/** Formats where qemu's discard really deallocates (elsewhere it may be a no-op, so contents would be undefined). */
export const DISCARDS = new Set(["raw", "qcow2"]);
/** Formats qemu-img cannot check (exit 63). */
export const UNCHECKABLE = new Set(["raw", "vpc"]);

export type Op =
  | { kind: "write"; off: number; len: number; pattern: number }
  | { kind: "zero" | "discard"; off: number; len: number };

export function randomOps(seed: number, size: number, n: number, discard: boolean): Op[] {
  const next = rng(seed);
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const aligned = next() < 0.5;
    let off = Math.floor(next() * size);
    let len = 1 + Math.floor(next() * 131072);
    if (aligned) {
      off -= off % 512;
      len = Math.max(512, len - (len % 512));
    }
    len = Math.min(len, size - off);
    const r = next();
    if (discard && r < 0.1) {
      const c = 65536;
      const start = off - (off % c);
      ops.push({
        kind: "discard",
        off: start,
        len: Math.min(c * (1 + Math.floor(next() * 3)), size - start),
      });
    } else if (r < 0.25) ops.push({ kind: "zero", off, len });
    else ops.push({ kind: "write", off, len, pattern: 1 + Math.floor(next() * 255) });
  }
  return ops.filter((o) => o.len > 0);
}

export function qemuCommands(ops: Op[]): string[] {
  return ops.map((o) =>
    o.kind === "write"
      ? `write -P ${o.pattern} ${o.off} ${o.len}`
      : o.kind === "zero"
        ? `write -z ${o.off} ${o.len}`
        : `discard ${o.off} ${o.len}`,
  );
}

export async function applyOps(image: DiskImage, ops: Op[], model?: Uint8Array): Promise<void> {
  for (const o of ops) {
    if (o.kind === "write") await image.write(o.off, new Uint8Array(o.len).fill(o.pattern));
    else if (o.kind === "discard" && image.discard) await image.discard(o.off, o.len);
    else if (image.writeZeroes) await image.writeZeroes(o.off, o.len);
    else await image.write(o.off, new Uint8Array(o.len));
    if (model) model.fill(o.kind === "write" ? o.pattern : 0, o.off, o.off + o.len);
  }
}

export function virtualSize(path: string, format: string): number {
  return JSON.parse(qemuImg("info", "-f", format, "--output=json", path).stdout)["virtual-size"];
}
