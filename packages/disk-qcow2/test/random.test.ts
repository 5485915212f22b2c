/**
 * Seeded random sequences of write / compressed write / write-zeroes /
 * discard / snapshot / resize, applied by us and by qemu-io/qemu-img to copies of the same image,
 * end in images qemu-img finds equal (active state and every snapshot) and
 * clean. BACKPLANE_LONG=1 runs many more and longer sequences.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import type { Qcow2Image } from "../src/index.js";
import { hasQemu, openImage, qemuCheck, qemuImg, qemuImgStatus, rng, tempDir } from "./helpers.js";

const LONG = process.env.BACKPLANE_LONG === "1";
const SEEDS = LONG ? 60 : 4;
const OPS = LONG ? 120 : 30;

const { dir, cleanup } = tempDir();
afterAll(cleanup);

type Op =
  | { kind: "write"; off: number; len: number; byte: number }
  | { kind: "compress"; off: number; len: number; byte: number }
  | { kind: "zero"; off: number; len: number }
  | { kind: "discard"; off: number; len: number }
  | { kind: "snapshot" | "apply" | "delete"; name: string }
  | { kind: "resize"; size: number };

function genOps(seed: number, startSize: number, clusterSize: number): Op[] {
  const r = rng(seed);
  const ops: Op[] = [];
  let size = startSize;
  const snaps: string[] = [];
  let made = 0;
  for (let i = 0; i < OPS; i++) {
    const k = r();
    const off = Math.floor(r() * size);
    const len = Math.max(1, Math.min(size - off, Math.floor(r() * (r() < 0.2 ? 200_000 : 10_000))));
    if (k < 0.45) ops.push({ kind: "write", off, len, byte: 1 + Math.floor(r() * 255) });
    else if (k < 0.5) {
      // QEMU compresses only into clusters without a host cluster, so free the cluster first.
      const c = Math.floor(off / clusterSize) * clusterSize;
      const n = Math.min(clusterSize, size - c);
      ops.push(
        { kind: "discard", off: c, len: n },
        { kind: "compress", off: c, len: n, byte: Math.floor(r() * 4) },
      );
    } else if (k < 0.62) ops.push({ kind: "zero", off, len });
    else if (k < 0.74) ops.push({ kind: "discard", off, len });
    else if (k < 0.82) {
      const name = `s${made++}`;
      snaps.push(name);
      ops.push({ kind: "snapshot", name });
    } else if (k < 0.87 && snaps.length) {
      ops.push({ kind: "apply", name: snaps[Math.floor(r() * snaps.length)] });
    } else if (k < 0.92 && snaps.length) {
      ops.push({ kind: "delete", name: snaps.splice(Math.floor(r() * snaps.length), 1)[0] });
    } else if (k < 1 && snaps.length === 0) {
      // Whole 64 KiB steps: after a shrink into the middle of a cluster, QEMU 7.2 shows the
      // cluster's old bytes again when the disk grows back; we read zeroes there (see write.test.ts).
      size = Math.max(65536, Math.floor(((r() * 2 + 0.3) * startSize) / 65536) * 65536);
      ops.push({ kind: "resize", size });
    }
  }
  return ops;
}

async function applyOurs(img: Qcow2Image, ops: Op[]): Promise<void> {
  for (const op of ops) {
    switch (op.kind) {
      case "write":
        await img.write(op.off, new Uint8Array(op.len).fill(op.byte));
        break;
      case "compress": {
        // A compressible pattern: the byte in every 64th position.
        const data = new Uint8Array(op.len);
        for (let i = 0; i < data.length; i += 64) data[i] = op.byte;
        await img.writeCompressed(op.off, data);
        break;
      }
      case "zero":
        await img.writeZeroes(op.off, op.len);
        break;
      case "discard":
        await img.discard(op.off, op.len);
        break;
      case "snapshot":
        await img.createSnapshot(op.name);
        break;
      case "apply":
        await img.applySnapshot(op.name);
        break;
      case "delete":
        await img.deleteSnapshot(op.name);
        break;
      case "resize":
        await img.resize(op.size, { shrink: true });
        break;
    }
  }
}

function applyQemu(path: string, ops: Op[]): void {
  let batch: string[] = [];
  const run = () => {
    if (!batch.length) return;
    const args = ["-d", "unmap", "-f", "qcow2"];
    for (const c of batch) args.push("-c", c);
    execFileSync("qemu-io", [...args, path], { stdio: "ignore" });
    batch = [];
  };
  for (const op of ops) {
    if (op.kind === "write") batch.push(`write -P ${op.byte} ${op.off} ${op.len}`);
    else if (op.kind === "compress") {
      // Same bytes as applyOurs, from a pattern file, compressed by qemu-io. Each in its own qemu-io run:
      // QEMU 7.2 can append compressed data to a host cluster that a discard freed and a later write
      // reused in the same session, corrupting its own image (qemu-img check then reports it).
      const file = `${dir}/pattern-${op.byte}-${op.len}.raw`;
      const data = new Uint8Array(op.len);
      for (let i = 0; i < data.length; i += 64) data[i] = op.byte;
      writeFileSync(file, data);
      run();
      batch.push(`write -c -s ${file} ${op.off} ${op.len}`);
      run();
    } else if (op.kind === "zero") batch.push(`write -z ${op.off} ${op.len}`);
    else if (op.kind === "discard") batch.push(`discard ${op.off} ${op.len}`);
    else {
      run();
      if (op.kind === "resize") qemuImg("resize", "-f", "qcow2", "--shrink", path, String(op.size));
      else qemuImg("snapshot", { snapshot: "-c", apply: "-a", delete: "-d" }[op.kind], op.name, path);
    }
  }
  run();
}

describe.skipIf(!hasQemu)("random sequences: ours vs qemu-io", () => {
  const bases = [
    { opts: "cluster_size=4096", size: 2 << 20, cluster: 4096 },
    { opts: "compat=0.10,cluster_size=65536", size: 3 << 20, cluster: 65536 },
    { opts: "cluster_size=512,refcount_bits=8", size: 1 << 20, cluster: 512 },
  ];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const base = bases[seed % bases.length];
    it(`seed ${seed} (${base.opts})`, async () => {
      const start = `${dir}/start${seed}.qcow2`;
      qemuImg("create", "-f", "qcow2", "-o", base.opts, start, String(base.size));
      execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x3c 0 300k", start], { stdio: "ignore" });
      const ours = `${dir}/ours${seed}.qcow2`;
      const theirs = `${dir}/theirs${seed}.qcow2`;
      copyFileSync(start, ours);
      copyFileSync(start, theirs);
      const ops = genOps(seed, base.size, base.cluster);
      const img = await openImage(ours);
      await applyOurs(img, ops);
      await img.close();
      applyQemu(theirs, ops);

      const check = qemuCheck(ours);
      expect(check.status, JSON.stringify(check.json)).toBe(0);
      expect(
        qemuCheck(theirs).status,
        "qemu's own image must be sound for the comparison to mean anything",
      ).not.toBe(2);
      const cmp = qemuImgStatus("compare", "-f", "qcow2", "-F", "qcow2", ours, theirs);
      expect(cmp.status, cmp.stdout + cmp.stderr).toBe(0);
      const snapsOurs = JSON.parse(qemuImg("info", "--output=json", ours)).snapshots ?? [];
      const snapsTheirs = JSON.parse(qemuImg("info", "--output=json", theirs)).snapshots ?? [];
      expect(snapsOurs.map((s: { name: string }) => s.name)).toEqual(
        snapsTheirs.map((s: { name: string }) => s.name),
      );
      for (const s of snapsOurs as { name: string }[]) {
        const a = `${dir}/sa.raw`;
        const b = `${dir}/sb.raw`;
        qemuImg("convert", "-l", `snapshot.name=${s.name}`, "-O", "raw", ours, a);
        qemuImg("convert", "-l", `snapshot.name=${s.name}`, "-O", "raw", theirs, b);
        expect(qemuImgStatus("compare", "-f", "raw", "-F", "raw", a, b).status, s.name).toBe(0);
      }
    });
  }
});
