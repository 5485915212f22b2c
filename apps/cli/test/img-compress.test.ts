/**
 * `img convert -c`: compressed qcow2 output (deflate and zstd, compressed on
 * worker threads) judged by qemu-img — check clean, compare identical, and a
 * file no more than 5% larger than `qemu-img convert -c` writes from the same
 * input — with `-p` progress that only moves forward.
 */
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { img, QEMU, qemuImg, qemuIo, rng, tempDir } from "./img-helpers.js";

const { dir, cleanup } = tempDir();
afterAll(cleanup);

/** Seeded lowercase words and spaces (about 60% after deflate), with a run of zero clusters. */
function textLike(size: number): Uint8Array {
  const r = rng(21);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; ) {
    const len = 2 + Math.floor(r() * 8);
    for (let k = 0; k < len && i < size; k++) out[i++] = 97 + Math.floor(r() * 26);
    if (i < size) out[i++] = 32;
  }
  return out.fill(0, 1 << 20, 2 << 20);
}

describe.skipIf(!QEMU)("convert -c judged by qemu-img", () => {
  const src = join(dir, "text.raw");
  writeFileSync(src, textLike(6 << 20));

  for (const type of ["zlib", "zstd"]) {
    it(`compression_type=${type}`, async () => {
      const ours = join(dir, `ours-${type}.qcow2`);
      const theirs = join(dir, `theirs-${type}.qcow2`);
      const o = `compression_type=${type}`;
      const r = await img("convert", "-c", "-p", "-o", o, "-f", "raw", "-O", "qcow2", src, ours);
      expect(r.code, r.stderr).toBe(0);
      const pcts = [...r.stderr.matchAll(/\((\d+\.\d+)\/100%\)/g)].map((m) => Number(m[1]));
      expect(pcts).toEqual([...pcts].sort((a, b) => a - b));
      expect(pcts[pcts.length - 1]).toBe(100);
      expect(qemuImg("convert", "-c", "-o", o, "-f", "raw", "-O", "qcow2", src, theirs).code).toBe(0);
      const check = qemuImg("check", "--output=json", ours);
      expect(check.code, check.stdout).toBe(0);
      expect(JSON.parse(check.stdout)["compressed-clusters"]).toBe(80); // 96 clusters, 16 of them zero
      expect(qemuImg("compare", "-f", "raw", "-F", "qcow2", src, ours).code).toBe(0);
      expect(statSync(ours).size).toBeLessThanOrEqual(statSync(theirs).size * 1.05);
    });
  }

  it("-n: into an existing qcow2 made by qemu-img, whose old data is replaced (zero clusters too)", async () => {
    const target = join(dir, "existing.qcow2");
    expect(qemuImg("create", "-q", "-f", "qcow2", target, String(6 << 20)).code).toBe(0);
    qemuIo("qcow2", target, ["write -P 0x55 0 6M"]);
    const r = await img("convert", "-n", "-c", "-f", "raw", "-O", "qcow2", src, target);
    expect(r.code, r.stderr).toBe(0);
    const check = qemuImg("check", "--output=json", target);
    expect(check.code, check.stdout).toBe(0);
    expect(JSON.parse(check.stdout)["compressed-clusters"]).toBe(80);
    expect(qemuImg("compare", "-f", "raw", "-F", "qcow2", src, target).code).toBe(0);
  });
});
