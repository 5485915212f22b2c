/**
 * `img convert -t`: the target's cache mode, judged by the system calls the
 * process makes (strace) next to qemu-img's. qemu-img convert's default
 * (`unsafe`) never fdatasyncs the target's data; `-t writeback` does, once
 * the data is written.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { has, QEMU, tempDir } from "./img-helpers.js";

const STRACE = has("strace");
const { dir, cleanup } = tempDir();
afterAll(cleanup);

/** The fdatasync(2)/fsync(2) calls of `cmd` that took long enough to have written data (>= 1 ms). */
function syncsOf(cmd: string[]): { calls: number; slow: number } {
  const log = join(dir, "strace.log");
  const r = spawnSync("strace", ["-f", "-T", "-e", "trace=fdatasync,fsync", "-o", log, ...cmd], {
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  const calls = spawnSync("cat", [log], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => /f(data)?sync\(/.test(l) && /= 0 <([\d.]+)>/.test(l));
  const slow = calls.filter((l) => Number(/<([\d.]+)>/.exec(l)?.[1]) >= 0.001).length;
  return { calls: calls.length, slow };
}

describe.skipIf(!STRACE || !QEMU)("convert -t, judged by strace next to qemu-img", () => {
  const src = join(dir, "src.raw");
  // 64 MiB of non-zero data: writing it back takes well over a millisecond.
  writeFileSync(src, new Uint8Array(64 << 20).fill(0x5a));
  const loader = createRequire(import.meta.url).resolve("tsx");
  const ours = (...args: string[]) => [
    process.execPath,
    "--conditions=source",
    "--import",
    loader,
    join(import.meta.dirname, "../src/main.ts"),
    "img",
    ...args,
  ];

  it("default (unsafe): neither tool waits for the target's data to reach the disk", () => {
    const q = syncsOf(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", src, join(dir, "q.qcow2")]);
    const o = syncsOf(ours("convert", "-f", "raw", "-O", "qcow2", src, join(dir, "o.qcow2")));
    expect(q.slow).toBe(0);
    expect(o.calls).toBe(0);
  });

  it("-t writeback: both flush the written data", () => {
    spawnSync("sync");
    const q = syncsOf(["qemu-img", "convert", "-t", "writeback", "-O", "qcow2", src, join(dir, "q2.qcow2")]);
    spawnSync("sync");
    const o = syncsOf(ours("convert", "-t", "writeback", "-O", "qcow2", src, join(dir, "o2.qcow2")));
    expect(q.slow).toBeGreaterThan(0);
    expect(o.slow).toBeGreaterThan(0);
  });
});
