/**
 * Benchmark: 4 KiB random reads from a qcow2 image and a raw image, ours
 * (`openDiskFile` + `DiskImage.read`, the path `backplane run` and the library
 * take, with every request on libuv's thread pool, then with small requests
 * as synchronous pread) beside qemu-io 7.2 reading the same offsets in the same run, one
 * request at a time (`read`) and eight at a time (`aio_read` x 8, then
 * `aio_flush`). The disk is 512 MiB, half random data in 1 MiB runs, half
 * never written, so reads hit both data clusters and holes.
 *
 * qemu-io's time is its whole run minus the run of an empty command list (its
 * start-up and image open); ours is timed around the read loop. Every byte we
 * read is checked against the raw file, so a fast wrong answer cannot win.
 * Reports the median of BACKPLANE_BENCH_RUNS runs (default 3), as reads per
 * second, and the ratio ours/qemu (above 1 is faster).
 *
 *   npm run bench -w @backplane/cli      (BACKPLANE_BENCH_READS=20000)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDiskFile } from "@backplane/host-node";
import { registerAllFormats } from "../src/img/formats.js";
import { writeHalfRandomRaw } from "./disks.js";

const SIZE = 512 << 20;
const READS = Number(process.env.BACKPLANE_BENCH_READS ?? 20000);
const RUNS = Number(process.env.BACKPLANE_BENCH_RUNS ?? 3);
const BLOCK = 4096;

for (const tool of ["qemu-img", "qemu-io"]) {
  if (spawnSync(tool, ["--version"]).status !== 0) {
    console.error(`bench: ${tool} not found (apt-get install qemu-utils)`);
    process.exit(1);
  }
}
registerAllFormats();

const dir = mkdtempSync(join(tmpdir(), "bp-randread-"));
try {
  const raw = join(dir, "disk.raw");
  writeHalfRandomRaw(raw, SIZE >> 20);
  const qcow2 = join(dir, "disk.qcow2");
  spawnSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
  const truth = readFileSync(raw);

  const offsets: number[] = [];
  let x = 99;
  for (let i = 0; i < READS; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    offsets.push((x % (SIZE / BLOCK)) * BLOCK);
  }

  const qemuIo = (format: string, file: string, commands: string[]): number => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync("qemu-io", ["-f", format, "-r", file], {
      input: `${commands.join("\n")}\n`,
      stdio: ["pipe", "ignore", "pipe"],
      maxBuffer: 1 << 20,
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`qemu-io failed: ${r.stderr}`);
    return ms;
  };
  const qemuCommands = (depth: number): string[] => {
    if (depth === 1) return offsets.map((o) => `read -q ${o} ${BLOCK}`);
    const out: string[] = [];
    for (let i = 0; i < offsets.length; i += depth) {
      for (const o of offsets.slice(i, i + depth)) out.push(`aio_read -q ${o} ${BLOCK}`);
      out.push("aio_flush");
    }
    return out;
  };

  const ours = async (format: string, file: string, depth: number, syncMax: number): Promise<number> => {
    const image = await openDiskFile(file, { format, readOnly: true, io: { syncMax } });
    try {
      const bufs = Array.from({ length: depth }, () => new Uint8Array(BLOCK));
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < offsets.length; i += depth) {
        const batch = offsets.slice(i, i + depth);
        await Promise.all(batch.map((o, k) => image.read(o, bufs[k])));
        for (const [k, o] of batch.entries()) {
          if (!Buffer.from(bufs[k].buffer).equals(truth.subarray(o, o + BLOCK)))
            throw new Error(`${format}: wrong data read at ${o}`);
        }
      }
      return Number(process.hrtime.bigint() - t0) / 1e6;
    } finally {
      await image.close();
    }
  };

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // Ours twice: every request through libuv's thread pool (the default), and
  // requests up to 64 KiB as synchronous pread (FileIoOptions.syncMax).
  console.log(`4 KiB random reads (${READS} per run)       backplane reads/s   qemu-io reads/s   ratio`);
  for (const [format, file] of [
    ["qcow2", qcow2],
    ["raw", raw],
  ]) {
    for (const depth of [1, 8]) {
      const b: number[] = [];
      for (let i = 0; i < RUNS; i++)
        b.push(qemuIo(format, file, qemuCommands(depth)) - qemuIo(format, file, []));
      const rb = READS / (median(b) / 1000);
      for (const syncMax of [0, 65536]) {
        const a: number[] = [];
        for (let i = 0; i < RUNS; i++) a.push(await ours(format, file, depth, syncMax));
        const ra = READS / (median(a) / 1000);
        const name = `${format}, ${depth === 1 ? "one at a time" : `${depth} in flight`}, ${syncMax ? "sync pread" : "thread pool"}`;
        console.log(
          `${name.padEnd(41)}${ra.toFixed(0).padStart(18)}${rb.toFixed(0).padStart(18)}${(ra / rb).toFixed(2).padStart(8)}x`,
        );
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
