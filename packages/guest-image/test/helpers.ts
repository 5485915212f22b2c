// Test-only helpers: temporary folders and the host tools that act as peers.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "guest-image-"));
  made.push(dir);
  return dir;
}

export function hasTool(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
}

/** Runs a host tool in `cwd`, returning stdout as text (throws on failure). */
export function run(cwd: string, cmd: string, args: string[], input?: Uint8Array): string {
  return execFileSync(cmd, args, { cwd, input, encoding: "utf8", maxBuffer: 1 << 28 });
}

export function read(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
