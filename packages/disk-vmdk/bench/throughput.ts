// Sequential throughput of the VHD, VDI and VMDK drivers, side by side with
// qemu-img in the same run: write = create + write a 64 MiB image (half random
// data, half zeroes) in 1 MiB pieces vs `qemu-img convert -O <fmt>` from raw;
// read = read the whole qemu-made image in 1 MiB pieces vs `qemu-img convert -O raw`.
// Each figure is the best of three runs; reads are checked against the source.
// Run: npm run bench -w @backplane/disk-vmdk   (BENCH_MIB=256 for a larger image)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DiskFormat } from "@backplane/disk";
import { vdiFormat } from "@backplane/disk-vdi";
import { vpcFormat } from "@backplane/disk-vhd";
import { FileByteSource } from "@backplane/host-node";
import { vmdkFormat } from "../src/index.js";

const MiB = 1 << 20;
const size = Number(process.env.BENCH_MIB ?? 64) * MiB;
const dir = mkdtempSync(join(tmpdir(), "backplane-bench-"));
const raw = join(dir, "src.raw");
const content = new Uint8Array(size);
for (let i = 0; i < size / 2; i += 65536) crypto.getRandomValues(content.subarray(i, i + 65536));
writeFileSync(raw, content);

const cases: [string, DiskFormat, string, Record<string, string>][] = [
  ["vpc dynamic", vpcFormat, "vpc", { subformat: "dynamic", force_size: "on" }],
  ["vpc fixed", vpcFormat, "vpc", { subformat: "fixed", force_size: "on" }],
  ["vdi dynamic", vdiFormat, "vdi", {}],
  ["vmdk monolithicSparse", vmdkFormat, "vmdk", { subformat: "monolithicSparse" }],
  ["vmdk streamOptimized", vmdkFormat, "vmdk", { subformat: "streamOptimized" }],
];

const mbps = (ms: number) => (size / MiB / (ms / 1000)).toFixed(0).padStart(6);
/** Best of three runs, in milliseconds (the machine is shared). */
const time = async (fn: () => unknown): Promise<number> => {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
};
const opts = (o: Record<string, string>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

console.log(`${size / MiB} MiB image, MB/s          ours-write qemu-write  ours-read  qemu-read`);
for (const [label, driver, fmt, o] of cases) {
  const ours = join(dir, `ours.${fmt}`);
  const oursWrite = await time(async () => {
    const img = await driver.create(await FileByteSource.create(ours), { size, options: o });
    for (let at = 0; at < size; at += MiB) await img.write(at, content.subarray(at, at + MiB));
    await img.close();
  });
  const theirs = join(dir, `qemu.${fmt}`);
  const qemuWrite = await time(() =>
    execFileSync("qemu-img", [
      "convert",
      "-f",
      "raw",
      "-O",
      fmt,
      ...(o.subformat ? ["-o", opts(o)] : []),
      raw,
      theirs,
    ]),
  );
  const back = new Uint8Array(size);
  const oursRead = await time(async () => {
    const img = await driver.open(await FileByteSource.open(theirs, { readOnly: true }), { readOnly: true });
    for (let at = 0; at < size; at += MiB) await img.read(at, back.subarray(at, at + MiB));
    await img.close();
  });
  if (Buffer.compare(back, content) !== 0) throw new Error(`${label}: read back differs from the source`);
  const qemuRead = await time(() =>
    execFileSync("qemu-img", ["convert", "-f", fmt, "-O", "raw", theirs, join(dir, "out.raw")]),
  );
  console.log(
    `${label.padEnd(28)} ${mbps(oursWrite)}     ${mbps(qemuWrite)}     ${mbps(oursRead)}     ${mbps(qemuRead)}`,
  );
}
rmSync(dir, { recursive: true, force: true });
