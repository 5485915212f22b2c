// Sequential throughput of the qcow2 driver beside QEMU on the same data:
// write a raw disk's content into a new qcow2 image and read a qcow2 image
// (ours through Qcow2Image in 1 MiB requests; qemu's through `qemu-io`, which
// reads into memory like ours, and `qemu-img convert`, which also writes the
// output file), plain and deflate-compressed. MiB/s are over the whole
// virtual disk (half of it is zeroes that no one stores).
// Run: npm run bench (in packages/disk-qcow2). BACKPLANE_BENCH_MB sets the
// disk size (default 256).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { isZero } from "@backplane/disk";
import { Qcow2Image, qcow2 } from "../src/index.js";
import { FileSource } from "../test/helpers.js";

const MB = Number(process.env.BACKPLANE_BENCH_MB ?? 256);
const size = MB << 20;
const dir = mkdtempSync(join(tmpdir(), "bp-qcow2-bench-"));
const chunk = 1 << 20;

// Half the disk holds varied, compressible data; the rest stays zero.
const raw = new Uint8Array(size);
let x = 1;
for (let i = 0; i < size / 2; i++) {
  x = (x * 1103515245 + 12345) >>> 0;
  raw[i] = (x >>> 24) & 0x0f;
}
writeFileSync(join(dir, "src.raw"), raw);

async function time(label: string, fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(48)} ${(MB / s).toFixed(0).padStart(6)} MiB/s  (${s.toFixed(2)} s)`);
  return s;
}

async function writeOurs(path: string, compressed: boolean): Promise<void> {
  const img = (await qcow2.create(await FileSource.create(path), { size })) as Qcow2Image;
  const cs = img.clusterSize;
  for (let o = 0; o < size; o += chunk) {
    const part = raw.subarray(o, o + chunk);
    if (isZero(part)) continue; // like convert, skip zero chunks
    if (compressed)
      for (let c = 0; c < chunk; c += cs) await img.writeCompressed(o + c, part.subarray(c, c + cs));
    else await img.write(o, part);
  }
  await img.close();
}

async function readOurs(path: string): Promise<void> {
  const img = await Qcow2Image.open(await FileSource.open(path, true));
  const buf = new Uint8Array(chunk);
  for (let o = 0; o < size; o += chunk) await img.read(o, buf);
  await img.close();
}

const q = (...args: string[]): void => {
  execFileSync("qemu-img", args, { stdio: "ignore" });
};
const qio = (path: string, cmd: string): void => {
  execFileSync("qemu-io", ["-f", "qcow2", "-c", cmd, path], { stdio: "ignore" });
};
console.log(`qcow2 sequential throughput, ${MB} MiB disk (half data), 64 KiB clusters`);
await time("write raw -> qcow2: ours", () => writeOurs(join(dir, "ours.qcow2"), false));
await time("write raw -> qcow2: qemu-img convert", () =>
  q("convert", "-f", "raw", "-O", "qcow2", join(dir, "src.raw"), join(dir, "qemu.qcow2")),
);
await time("write half the disk: qemu-io write (one request)", () => {
  q("create", "-f", "qcow2", join(dir, "qio.qcow2"), String(size));
  qio(join(dir, "qio.qcow2"), `write -P 7 0 ${size / 2}`);
});
await time("read qcow2: ours", () => readOurs(join(dir, "qemu.qcow2")));
await time("read qcow2: qemu-io read (one request)", () => qio(join(dir, "qemu.qcow2"), `read 0 ${size}`));
await time("read qcow2 -> raw: qemu-img convert", () =>
  q("convert", "-O", "raw", join(dir, "qemu.qcow2"), join(dir, "out.raw")),
);
await time("write compressed (deflate): ours", () => writeOurs(join(dir, "oursc.qcow2"), true));
await time("write compressed (deflate): qemu-img convert -c", () =>
  q("convert", "-c", "-f", "raw", "-O", "qcow2", join(dir, "src.raw"), join(dir, "qemuc.qcow2")),
);
await time("read compressed: ours", () => readOurs(join(dir, "qemuc.qcow2")));
await time("read compressed: qemu-io read (one request)", () =>
  qio(join(dir, "qemuc.qcow2"), `read 0 ${size}`),
);
await time("read compressed -> raw: qemu-img convert", () =>
  q("convert", "-O", "raw", join(dir, "qemuc.qcow2"), join(dir, "out.raw")),
);
// Sanity: what we wrote is what qemu reads.
q("compare", "-f", "qcow2", "-F", "raw", join(dir, "ours.qcow2"), join(dir, "src.raw"));
q("compare", "-f", "qcow2", "-F", "raw", join(dir, "oursc.qcow2"), join(dir, "src.raw"));
rmSync(dir, { recursive: true, force: true });
