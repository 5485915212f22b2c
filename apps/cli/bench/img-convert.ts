/**
 * Benchmark: `backplane img convert` next to `qemu-img convert` in the same
 * run, raw -> qcow2 and qcow2 -> raw on a 512 MiB image (half random data in
 * 1 MiB runs, half holes), and an empty 1 TiB qcow2 (the time is all metadata
 * walking and process start-up). Reports the median of BACKPLANE_BENCH_RUNS runs (default 3)
 * and the ratio ours/qemu. The CLI is bundled from the current sources first
 * (tsup, "source" export condition), so neither a stale dist/ nor tsx's
 * start-up cost skews the numbers. Both outputs are checked with
 * `qemu-img compare` so a fast wrong answer cannot win.
 *
 *   npm run bench -w @backplane/cli      (BACKPLANE_BENCH_SIZE_MIB=512 BACKPLANE_BENCH_RUNS=3)
 */
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "tsup";

const SIZE_MIB = Number(process.env.BACKPLANE_BENCH_SIZE_MIB ?? 512);
const RUNS = Number(process.env.BACKPLANE_BENCH_RUNS ?? 3);
const here = import.meta.dirname;

if (spawnSync("qemu-img", ["--version"]).status !== 0) {
  console.error("bench: qemu-img not found (apt-get install qemu-utils)");
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "bp-bench-"));
try {
  await build({
    entry: { main: join(here, "../src/main.ts") },
    format: ["esm"],
    platform: "node",
    target: "node20",
    outDir: join(dir, "cli"),
    noExternal: [/.*/],
    config: false,
    silent: true,
    esbuildOptions(options) {
      options.conditions = ["source"];
    },
  });
  const ours = [process.execPath, join(dir, "cli/main.js"), "img"];
  const src = join(dir, "src.raw");
  const fd = openSync(src, "w");
  ftruncateSync(fd, SIZE_MIB << 20);
  const chunk = Buffer.alloc(1 << 20);
  let seed = 12345;
  for (let mib = 0; mib < SIZE_MIB; mib++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    if (seed & 0x10000) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, chunk.length, mib << 20);
    }
  }
  closeSync(fd);

  const time = (cmd: string[]): number => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
    return ms;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const same = (a: string, fa: string, b: string, fb: string) => {
    if (spawnSync("qemu-img", ["compare", "-f", fa, "-F", fb, a, b]).status !== 0)
      throw new Error(`${b} differs from ${a}`);
  };

  const qcow2 = join(dir, "ref.qcow2");
  spawnSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", src, qcow2]);
  const empty = join(dir, "empty-1t.qcow2");
  spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", empty, "1T"]);
  const cases = [
    { name: `raw -> qcow2 (${SIZE_MIB} MiB)`, from: "raw", to: "qcow2", input: src },
    { name: `qcow2 -> raw (${SIZE_MIB} MiB)`, from: "qcow2", to: "raw", input: qcow2 },
    { name: "empty 1 TiB qcow2 -> qcow2", from: "qcow2", to: "qcow2", input: empty },
  ];
  console.log("case                      backplane ms   qemu-img ms   ratio");
  for (const c of cases) {
    const outOurs = join(dir, `ours.${c.to}`);
    const outQemu = join(dir, `qemu.${c.to}`);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(outOurs, { force: true });
      rmSync(outQemu, { force: true });
      a.push(time([...ours, "convert", "-f", c.from, "-O", c.to, c.input, outOurs]));
      b.push(time(["qemu-img", "convert", "-f", c.from, "-O", c.to, c.input, outQemu]));
    }
    same(c.input, c.from, outOurs, c.to);
    same(c.input, c.from, outQemu, c.to);
    const [ma, mb] = [median(a), median(b)];
    console.log(
      `${c.name.padEnd(26)}${ma.toFixed(0).padStart(12)}${mb.toFixed(0).padStart(14)}${(ma / mb).toFixed(2).padStart(8)}x`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
