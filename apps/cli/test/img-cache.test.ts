/**
 * `img convert -t`: the target's cache mode, judged by the system calls the
 * process makes (strace) next to qemu-img's. qemu-img convert's default
 * (`unsafe`) never fdatasyncs the target once its data is written;
 * `-t writeback` does.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { has, imgCommand, QEMU, tempDir } from "./img-helpers.js";

const STRACE = has("strace");
const { dir, cleanup } = tempDir();
afterAll(cleanup);

/**
 * The fdatasync(2)/fsync(2) calls `cmd` makes after its last data write (a
 * pwrite64 of at least 64 KiB): the ones that make the written data durable.
 * Syncs made earlier (around metadata while the image is created) do not count.
 */
function syncsAfterData(cmd: string[]): number {
  const log = join(dir, "strace.log");
  const r = spawnSync("strace", ["-f", "-e", "trace=pwrite64,fdatasync,fsync", "-o", log, ...cmd], {
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = readFileSync(log, "utf8").split("\n");
  const dataWrite = (l: string) => {
    const m = /pwrite64\(\d+, .*, (\d+), \d+\)/.exec(l) ?? /pwrite64 resumed>.*= (\d+)/.exec(l);
    return m !== null && Number(m[1]) >= 65536;
  };
  const last = lines.reduce((found, l, i) => (dataWrite(l) ? i : found), -1);
  expect(last).toBeGreaterThanOrEqual(0);
  return lines.slice(last + 1).filter((l) => /\bf(data)?sync\(/.test(l) || /f(data)?sync resumed/.test(l))
    .length;
}

describe.skipIf(!STRACE || !QEMU)("convert -t, judged by strace next to qemu-img", () => {
  const src = join(dir, "src.raw");
  // 64 MiB of non-zero data: writing it back takes well over a millisecond.
  writeFileSync(src, new Uint8Array(64 << 20).fill(0x5a));
  const ours = imgCommand;

  it("default (unsafe): neither tool waits for the target's data to reach the disk", () => {
    expect(
      syncsAfterData(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", src, join(dir, "q.qcow2")]),
    ).toBe(0);
    expect(syncsAfterData(ours("convert", "-f", "raw", "-O", "qcow2", src, join(dir, "o.qcow2")))).toBe(0);
  });

  it("-t writeback: both flush the written data", () => {
    const q = ["qemu-img", "convert", "-t", "writeback", "-O", "qcow2", src, join(dir, "q2.qcow2")];
    expect(syncsAfterData(q)).toBeGreaterThan(0);
    expect(
      syncsAfterData(ours("convert", "-t", "writeback", "-O", "qcow2", src, join(dir, "o2.qcow2"))),
    ).toBeGreaterThan(0);
  });
});
