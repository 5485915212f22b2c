/**
 * Crash safety: a writer killed after any number of its writes never leaves
 * an image that qemu-img check calls corrupt (exit 2); leaks are allowed.
 * Every write the driver issues is recorded; the image as it would be after
 * the first N writes is rebuilt and judged, for N across the whole run
 * (every N with BACKPLANE_LONG=1).
 */
import { writeFileSync } from "node:fs";
import { type ByteSource, MemoryByteSource } from "@backplane/disk";
import { afterAll, describe, expect, it } from "vitest";
import { Qcow2Image, qcow2 } from "../src/index.js";
import { hasQemu, qemuCheck, rng, tempDir } from "./helpers.js";

const LONG = process.env.BACKPLANE_LONG === "1";
const SAMPLES = LONG ? Number.POSITIVE_INFINITY : 24;
const LONG_TIMEOUT = LONG ? 1_800_000 : undefined;

const { dir, cleanup } = tempDir();
afterAll(cleanup);

type Entry = { offset: number; data: Uint8Array } | { truncate: number };

/** A ByteSource that logs every write and truncation it persists. */
class RecordingSource implements ByteSource {
  readonly log: Entry[] = [];
  readonly name = "recording";
  readonly readOnly = false;
  constructor(private readonly inner: MemoryByteSource) {}
  size() {
    return this.inner.size();
  }
  read(offset: number, dest: Uint8Array) {
    return this.inner.read(offset, dest);
  }
  async write(offset: number, src: Uint8Array) {
    this.log.push({ offset, data: src.slice() });
    await this.inner.write(offset, src);
  }
  async truncate(size: number) {
    this.log.push({ truncate: size });
    await this.inner.truncate(size);
  }
  flush() {
    return this.inner.flush();
  }
  async close() {}
}

/** The file contents after the first `n` logged writes reached the disk. */
async function replay(initial: Uint8Array, log: Entry[], n: number): Promise<Uint8Array> {
  const m = new MemoryByteSource("replay", initial.slice());
  for (const e of log.slice(0, n)) {
    if ("truncate" in e) await m.truncate(e.truncate);
    else await m.write(e.offset, e.data);
  }
  return m.bytes().slice();
}

async function scenario(options: Record<string, string>, seed: number) {
  const base = new MemoryByteSource("base");
  const img0 = (await qcow2.create(base, { size: 2 << 20, options })) as Qcow2Image;
  await img0.write(0, new Uint8Array(150_000).fill(0x42));
  await img0.close();
  const initial = base.bytes().slice();

  const rec = new RecordingSource(new MemoryByteSource("work", initial.slice()));
  const img = await Qcow2Image.open(rec, { l2CacheEntries: 2, refcountCacheEntries: 1 });
  const r = rng(seed);
  let size = img.size;
  if (options.refcount_bits === "64") await img.write(0, new Uint8Array(size).fill(0x17)); // outgrows the refcount table
  for (let i = 0; i < 25; i++) {
    const off = Math.floor(r() * size);
    const len = Math.max(1, Math.min(size - off, Math.floor(r() * 70_000)));
    const k = r();
    if (k < 0.55) await img.write(off, new Uint8Array(len).fill(i + 1));
    else if (k < 0.7) await img.writeZeroes(off, len);
    else if (k < 0.85) await img.discard(off, len);
    else if (k < 0.92 && options.compat !== "0.10") {
      const cs = img.clusterSize;
      const c = Math.floor(off / cs) * cs;
      if (c + cs <= size) await img.writeCompressed(c, new Uint8Array(cs).fill(i));
    } else {
      size = Math.floor(((0.5 + r()) * (2 << 20)) / 512) * 512;
      await img.resize(size, { shrink: true });
    }
    if (i % 8 === 7) await img.flush();
  }
  const tableMoved = img.refcounts.layout.tableOffset !== img0.refcounts.layout.tableOffset;
  await img.close();
  return { initial, log: rec.log, tableMoved };
}

describe.skipIf(!hasQemu)("a crash after any write leaves no corruption", () => {
  const cases: [string, Record<string, string>][] = [
    ["v3 4K clusters, tiny caches", { cluster_size: "4096" }],
    ["v2 512-byte clusters, many refcount blocks", { compat: "0.10", cluster_size: "512" }],
    [
      "v3 512-byte clusters, 64-bit refcounts: refcount table growth",
      { cluster_size: "512", refcount_bits: "64" },
    ],
    [
      "v3 lazy refcounts, 2-bit refcounts",
      { cluster_size: "4096", lazy_refcounts: "on", refcount_bits: "2" },
    ],
  ];
  for (const [i, [label, options]] of cases.entries()) {
    it(
      label,
      async () => {
        const { initial, log, tableMoved } = await scenario(options, 11 + i);
        if (label.includes("growth")) expect(tableMoved).toBe(true);
        const points = new Set<number>([log.length]);
        const step = Math.max(1, Math.floor(log.length / Math.min(SAMPLES, log.length)));
        for (let n = 0; n <= log.length; n += step) points.add(n);
        const path = `${dir}/crash${i}.qcow2`;
        for (const n of points) {
          writeFileSync(path, await replay(initial, log, n));
          const c = qemuCheck(path);
          expect(c.status, `after ${n}/${log.length} writes: ${JSON.stringify(c.json)}`).not.toBe(2);
          expect(c.json.corruptions ?? 0, `after ${n} writes`).toBe(0);
        }
      },
      LONG_TIMEOUT,
    );
  }
});
