/**
 * Benchmark: `backplane img convert` next to `qemu-img convert` in the same
 * run, raw -> qcow2 and qcow2 -> raw on a 512 MiB image (half random data in
 * 1 MiB runs, half holes), an empty 1 TiB qcow2 (the time is all metadata
 * walking and process start-up), and compressed output (`-c`, deflate and
 * zstd) from a quarter-size compressible text-like raw image, where the
 * output sizes are printed too. Reports the median of BACKPLANE_BENCH_RUNS
 * runs (default 5, alternating who goes first, each after a `sync`), the
 * ratio ours/qemu, and our throughput as a share of qemu-img's; the first row
 * is each tool's bare start-up. The CLI is bundled from the current sources
 * first (tsup, "source" export condition), so neither a stale dist/ nor tsx's
 * start-up cost skews the numbers. Both outputs are checked with
 * `qemu-img compare` so a fast wrong answer cannot win.
 *
 *   npm run bench -w @backplane/cli      (BACKPLANE_BENCH_SIZE_MIB=512 BACKPLANE_BENCH_RUNS=5)
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "tsup";
import { writeHalfRandomRaw } from "./disks.js";

const SIZE_MIB = Number(process.env.BACKPLANE_BENCH_SIZE_MIB ?? 512);
const RUNS = Number(process.env.BACKPLANE_BENCH_RUNS ?? 5);
const here = import.meta.dirname;

if (spawnSync("qemu-img", ["--version"]).status !== 0) {
  console.error("bench: qemu-img not found (apt-get install qemu-utils)");
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "bp-bench-"));
// The bundle lives inside the tree so that modules resolved at run time (the zstd encoder the
// compression workers load) are found in node_modules.
const cacheRoot = join(here, "../node_modules/.cache");
mkdirSync(cacheRoot, { recursive: true });
const cliDir = mkdtempSync(join(cacheRoot, "bench-cli-"));
try {
  await build({
    entry: { main: join(here, "../src/main.ts") },
    format: ["esm"],
    platform: "node",
    target: "node20",
    outDir: cliDir,
    noExternal: [/.*/],
    config: false,
    silent: true,
    esbuildOptions(options) {
      options.conditions = ["source"];
    },
  });
  const ours = [process.execPath, join(cliDir, "main.js"), "img"];
  const src = join(dir, "src.raw");
  writeHalfRandomRaw(src, SIZE_MIB);
  const chunk = Buffer.alloc(1 << 20);

  // Compressible input: pseudo-random lowercase "words" and spaces (about 60% after deflate).
  const TEXT_MIB = Math.max(1, Math.floor(SIZE_MIB / 4));
  const text = join(dir, "text.raw");
  const tfd = openSync(text, "w");
  let state = 987654321;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let mib = 0; mib < TEXT_MIB; mib++) {
    for (let i = 0; i < chunk.length; ) {
      const len = 2 + Math.floor(random() * 8);
      for (let k = 0; k < len && i < chunk.length; k++) chunk[i++] = 97 + Math.floor(random() * 26);
      if (i < chunk.length) chunk[i++] = 32;
    }
    writeSync(tfd, chunk, 0, chunk.length, mib << 20);
  }
  closeSync(tfd);

  const time = (cmd: string[]): number => {
    // Each run starts with no dirty pages left by the one before (their writeback would bill it).
    spawnSync("sync");
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
  const cases: { name: string; from: string; to: string; input: string; args?: string[] }[] = [
    { name: `raw -> qcow2 (${SIZE_MIB} MiB)`, from: "raw", to: "qcow2", input: src },
    { name: `qcow2 -> raw (${SIZE_MIB} MiB)`, from: "qcow2", to: "raw", input: qcow2 },
    { name: "empty 1 TiB qcow2 -> qcow2", from: "qcow2", to: "qcow2", input: empty },
    { name: `raw -> qcow2 -c (${TEXT_MIB} MiB)`, from: "raw", to: "qcow2", input: text, args: ["-c"] },
    {
      name: `  ... zstd (${TEXT_MIB} MiB)`,
      from: "raw",
      to: "qcow2",
      input: text,
      args: ["-c", "-o", "compression_type=zstd"],
    },
  ];
  // The fixed cost of a process, which a 512 MiB convert cannot hide: Node's start-up and our modules.
  const startOurs = median(Array.from({ length: RUNS }, () => time([...ours, "--help"])));
  const startQemu = median(Array.from({ length: RUNS }, () => time(["qemu-img", "--help"])));
  console.log(
    "case                      backplane ms   qemu-img ms   ratio   throughput   backplane bytes   qemu-img bytes",
  );
  console.log(
    `${"start-up (img --help)".padEnd(26)}${startOurs.toFixed(0).padStart(12)}${startQemu.toFixed(0).padStart(14)}`,
  );
  for (const c of cases) {
    const outOurs = join(dir, `ours.${c.to}`);
    const outQemu = join(dir, `qemu.${c.to}`);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(outOurs, { force: true });
      rmSync(outQemu, { force: true });
      const args = [...(c.args ?? []), "-f", c.from, "-O", c.to, c.input];
      // Alternate who goes first, so neither always meets the other's leftovers.
      const runOurs = () => a.push(time([...ours, "convert", ...args, outOurs]));
      const runQemu = () => b.push(time(["qemu-img", "convert", ...args, outQemu]));
      if (i % 2) {
        runQemu();
        runOurs();
      } else {
        runOurs();
        runQemu();
      }
    }
    same(c.input, c.from, outOurs, c.to);
    same(c.input, c.from, outQemu, c.to);
    const [ma, mb] = [median(a), median(b)];
    const sizes = c.args
      ? `${String(statSync(outOurs).size).padStart(18)}${String(statSync(outQemu).size).padStart(17)}`
      : "";
    // Throughput relative to qemu-img's: the same bytes over our time vs theirs.
    const share = `${((mb / ma) * 100).toFixed(0)}%`;
    console.log(
      `${c.name.padEnd(26)}${ma.toFixed(0).padStart(12)}${mb.toFixed(0).padStart(14)}${(ma / mb).toFixed(2).padStart(8)}x${share.padStart(13)}${sizes}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(cliDir, { recursive: true, force: true });
}
