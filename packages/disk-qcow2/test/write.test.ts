/**
 * Images we create and write pass `qemu-img check` and `qemu-img compare`
 * against the content the test expects (kept by the test in a plain buffer).
 */
import { spawnSync } from "node:child_process";
import { InvalidArgumentError, UnsupportedError } from "@backplane/core";
import { afterAll, describe, expect, it } from "vitest";
import type { Qcow2Image } from "../src/index.js";
import {
  createImage,
  hasQemu,
  openImage,
  qemuCheck,
  qemuCompare,
  qemuImg,
  qemuIo,
  qemuRaw,
  readAll,
  rng,
  tempDir,
} from "./helpers.js";

const { dir, cleanup } = tempDir();
afterAll(cleanup);
let n = 0;
const next = () => `${dir}/w${n++}.qcow2`;

/** Applies a seeded mix of writes, zero writes and discards to the image and to `model`. */
async function scribble(img: Qcow2Image, model: Uint8Array, seed: number, ops = 40): Promise<void> {
  const r = rng(seed);
  const size = model.length;
  for (let i = 0; i < ops; i++) {
    const off = Math.floor(r() * size);
    const len = Math.min(size - off, 1 + Math.floor(r() * (r() < 0.2 ? 300_000 : 9000)));
    const kind = r();
    if (kind < 0.7) {
      const data = new Uint8Array(len).fill(1 + Math.floor(r() * 255));
      data[0] = i;
      await img.write(off, data);
      model.set(data, off);
    } else if (kind < 0.85) {
      await img.writeZeroes(off, len);
      model.fill(0, off, off + len);
    } else {
      // Discard drops whole clusters only; they then read as zeroes (no backing file here).
      await img.discard(off, len);
      const cs = img.clusterSize;
      const start = Math.ceil(off / cs) * cs;
      const end = off + len === size ? size : Math.floor((off + len) / cs) * cs;
      if (end > start) model.fill(0, start, end);
    }
  }
}

function expectClean(path: string): void {
  const c = qemuCheck(path);
  expect(c.status, JSON.stringify(c.json)).toBe(0);
  expect(c.json.leaks ?? 0).toBe(0);
  expect(c.json.corruptions ?? 0).toBe(0);
}

function expectContent(path: string, model: Uint8Array): void {
  const r = qemuCompare(path, model, dir);
  expect(r.status, r.out).toBe(0);
}

describe.skipIf(!hasQemu)("images we write pass qemu-img check and compare", () => {
  const combos: Record<string, string>[] = [
    { compat: "0.10" },
    { compat: "0.10", cluster_size: "512" },
    { cluster_size: "512" },
    { cluster_size: "4096" },
    {},
    { cluster_size: "2M" },
    { lazy_refcounts: "on" },
    ...[1, 2, 4, 8, 32, 64].map((b) => ({ refcount_bits: String(b), cluster_size: "4096" })),
  ];
  for (const [i, opts] of combos.entries()) {
    it(`create + random writes: ${JSON.stringify(opts)}`, async () => {
      const p = next();
      const size = opts.cluster_size === "2M" ? 16 << 20 : 3 << 20;
      const img = await createImage(p, size, opts);
      const model = new Uint8Array(size);
      await scribble(img, model, 100 + i);
      expect(Buffer.compare(Buffer.from(await readAll(img)), Buffer.from(model))).toBe(0);
      await img.close();
      expectClean(p);
      expectContent(p, model);
      const info = JSON.parse(qemuImg("info", "--output=json", p));
      expect(info["format-specific"].data["refcount-bits"]).toBe(Number(opts.refcount_bits ?? 16));
      expect(info["format-specific"].data.compat).toBe(opts.compat ?? "1.1");
    });
  }

  it("grows the refcount table (512-byte clusters, 64-bit refcounts)", async () => {
    const p = next();
    const size = 6 << 20;
    const img = await createImage(p, size, { cluster_size: "512", refcount_bits: "64" });
    const model = new Uint8Array(size);
    for (let off = 0; off < size; off += 256 << 10) {
      const data = new Uint8Array(200 << 10).fill((off >> 18) + 1);
      await img.write(off, data);
      model.set(data, off);
    }
    await img.close();
    const before = JSON.parse(qemuImg("info", "--output=json", p));
    expect(before["actual-size"]).toBeGreaterThan(4 << 20);
    expectClean(p);
    expectContent(p, model);
  });

  it("overlay over a qemu-made backing file: partial writes copy from the backing file", async () => {
    const base = next();
    qemuImg("create", "-f", "qcow2", base, "2M");
    qemuIo(base, ["write -P 0x5a 0 2M"]);
    const p = next();
    const img = await createImage(p, 2 << 20, { cluster_size: "4096" }, { file: base, format: "qcow2" });
    const model = qemuRaw(base, dir);
    await img.write(5000, new Uint8Array(100).fill(7));
    model.fill(7, 5000, 5100);
    await img.writeZeroes(8192, 4096);
    model.fill(0, 8192, 12288);
    await img.discard(65536, 8192);
    model.fill(0, 65536, 65536 + 8192);
    await img.writeZeroes(100_000, 10);
    model.fill(0, 100_000, 100_010);
    await img.close();
    expectClean(p);
    expectContent(p, model);
    const info = JSON.parse(qemuImg("info", "--output=json", p));
    expect(info["backing-filename"]).toBe(base);
    expect(info["backing-filename-format"]).toBe("qcow2");
  });

  it("setBackingFile rewrites only the reference (rebase -u), keeping other header extensions", async () => {
    const base = next();
    qemuImg("create", "-f", "qcow2", base, "1M");
    qemuIo(base, ["write -P 0x21 0 1M"]);
    const copy = next();
    qemuImg("convert", "-O", "raw", base, copy);
    const p = next();
    qemuImg("create", "-f", "qcow2", "-b", base, "-F", "qcow2", p, "1M");
    qemuIo(p, ["write -P 0x22 4k 4k"]);
    const img = await openImage(p);
    await img.setBackingFile(copy, "raw");
    await img.close();
    let info = JSON.parse(qemuImg("info", "--output=json", p));
    expect(info["backing-filename"]).toBe(copy);
    expect(info["backing-filename-format"]).toBe("raw");
    const model = new Uint8Array(1 << 20).fill(0x21);
    model.fill(0x22, 4096, 8192);
    expectContent(p, model);
    expectClean(p);
    // The feature name table qemu wrote is still there (qemu-img prints no error on unknown bits otherwise).
    const again = await openImage(p);
    expect(again.header.extensions.some((e) => e.type === 0x6803f857)).toBe(true);
    await again.setBackingFile(undefined);
    await again.close();
    info = JSON.parse(qemuImg("info", "--output=json", p));
    expect(info["backing-filename"]).toBeUndefined();
    // qemu-io's write copied the rest of the 64 KiB cluster from the old backing file.
    expectContent(p, new Uint8Array(1 << 20).fill(0x21, 0, 65536).fill(0x22, 4096, 8192));
    expectClean(p);
  });

  for (const type of ["zlib", "zstd"]) {
    it(`compressed writes (${type}) read back through qemu`, async () => {
      const p = next();
      const size = 1 << 20;
      const img = await createImage(p, size, { cluster_size: "65536", compression_type: type });
      const model = new Uint8Array(size);
      const r = rng(7);
      for (let c = 0; c < 12; c++) {
        const data = new Uint8Array(65536);
        for (let i = 0; i < data.length; i++) data[i] = c % 3 === 0 ? Math.floor(r() * 256) : (i >> 6) & 0xff;
        await img.writeCompressed(c * 65536, data);
        model.set(data, c * 65536);
      }
      // Overwriting part of a compressed cluster goes through copy-on-write.
      await img.write(65536 + 10, new Uint8Array([1, 2, 3]));
      model.set([1, 2, 3], 65536 + 10);
      await img.close();
      expectClean(p);
      expectContent(p, model);
      expect(qemuCheck(p).json["compressed-clusters"]).toBeGreaterThan(5);
      expect(
        JSON.parse(qemuImg("info", "--output=json", p))["format-specific"].data["compression-type"],
      ).toBe(type);
    });
  }

  it("compressed writes never append to a host cluster freed (and reused) since", async () => {
    const p = next();
    const cs = 4096;
    const img = await createImage(p, 1 << 20, { cluster_size: String(cs) });
    const packable = (b: number) => new Uint8Array(cs).map((_, i) => (i % 64 === 0 ? b : 0));
    await img.createSnapshot("empty");
    await img.writeCompressed(0, packable(1)); // opens a host cluster for packing compressed data
    await img.applySnapshot("empty"); // frees it outright
    const model = new Uint8Array(1 << 20);
    await img.write(8 * cs, new Uint8Array(cs).fill(3)); // reuses it for plain data
    model.fill(3, 8 * cs, 9 * cs);
    await img.writeCompressed(16 * cs, packable(4));
    model.set(packable(4), 16 * cs);
    await img.close();
    expectClean(p);
    expectContent(p, model);
  });

  it("resize: grow (new space reads zero, even in a cluster cut by a shrink; L1 grows) and shrink", async () => {
    const p = next();
    const img = await createImage(p, 1 << 20, { cluster_size: "4096" });
    const model = new Uint8Array(3 << 20);
    await img.write(0, new Uint8Array(1 << 20).fill(3));
    model.fill(3, 0, 1 << 20);
    await img.resize(1_000_448, { shrink: true });
    model.fill(0, 1_000_448);
    await img.resize(3 << 20);
    await img.write((3 << 20) - 4096, new Uint8Array(4096).fill(9));
    model.fill(9, (3 << 20) - 4096);
    await expect(img.resize(1 << 20)).rejects.toBeInstanceOf(InvalidArgumentError);
    await img.close();
    expectClean(p);
    expectContent(p, model);
    expect(JSON.parse(qemuImg("info", "--output=json", p))["virtual-size"]).toBe(3 << 20);
  });

  it("resize: growing over a longer backing file reads zeroes, not the backing data", async () => {
    const base = next();
    qemuImg("create", "-f", "qcow2", base, "4M");
    qemuIo(base, ["write -P 0x66 0 4M"]);
    const p = next();
    for (const compat of ["0.10", "1.1"]) {
      const img = await createImage(
        p,
        1 << 20,
        { compat, cluster_size: "65536" },
        { file: base, format: "qcow2" },
      );
      await img.resize(3 << 20);
      await img.close();
      expectClean(p);
      expectContent(p, new Uint8Array(3 << 20).fill(0x66, 0, 1 << 20));
    }
  });

  it("internal snapshots: create, list, apply, delete, judged by qemu-img", async () => {
    const p = next();
    const size = 2 << 20;
    const img = await createImage(p, size, { cluster_size: "4096" });
    const model = new Uint8Array(size);
    await scribble(img, model, 1);
    await img.createSnapshot("first", { dateSec: 1_700_000_000 });
    const atFirst = model.slice();
    await scribble(img, model, 2);
    await img.createSnapshot("second");
    const atSecond = model.slice();
    await scribble(img, model, 3);
    await img.flush();
    expectClean(p);
    expectContent(p, model);
    const list = JSON.parse(qemuImg("info", "--output=json", p)).snapshots;
    expect(list.map((s: { name: string }) => s.name)).toEqual(["first", "second"]);
    expect(list[0]["date-sec"]).toBe(1_700_000_000);
    const snapRaw = `${dir}/snap.raw`;
    qemuImg("convert", "-l", "snapshot.name=first", "-O", "raw", p, snapRaw);
    const { readFileSync } = await import("node:fs");
    expect(Buffer.compare(readFileSync(snapRaw), Buffer.from(atFirst))).toBe(0);

    await img.applySnapshot("first");
    expect(Buffer.compare(Buffer.from(await readAll(img)), Buffer.from(atFirst))).toBe(0);
    await img.flush();
    expectClean(p);
    await img.deleteSnapshot("first");
    await img.write(0, new Uint8Array(10).fill(0xee));
    atFirst.fill(0xee, 0, 10);
    await img.close();
    expectClean(p);
    expectContent(p, atFirst);
    qemuImg("snapshot", "-a", "second", p);
    expectContent(p, atSecond);
    expectClean(p);
  });

  it("a snapshot that would overflow narrow refcounts is refused before anything changes", async () => {
    const p = next();
    const img = await createImage(p, 1 << 20, { refcount_bits: "1", cluster_size: "4096" });
    await img.write(0, new Uint8Array(50_000).fill(8));
    await expect(img.createSnapshot("x")).rejects.toBeInstanceOf(UnsupportedError);
    await img.close();
    expectClean(p);
    expectContent(p, new Uint8Array(1 << 20).fill(8, 0, 50_000));
    const two = next();
    const img2 = await createImage(two, 1 << 20, { refcount_bits: "2", cluster_size: "4096" });
    await img2.write(0, new Uint8Array(50_000).fill(9));
    await img2.createSnapshot("a");
    await img2.createSnapshot("b");
    await expect(img2.createSnapshot("c")).rejects.toBeInstanceOf(UnsupportedError);
    await img2.close();
    expectClean(two);
  });

  it("applies and deletes snapshots made by qemu-img", async () => {
    const p = next();
    qemuImg("create", "-f", "qcow2", "-o", "cluster_size=4096", p, "1M");
    qemuIo(p, ["write -P 0x11 0 100k"]);
    qemuImg("snapshot", "-c", "s1", p);
    const atS1 = qemuRaw(p, dir);
    qemuIo(p, ["write -P 0x22 50k 100k"]);
    const img = await openImage(p);
    await img.applySnapshot("s1");
    await img.deleteSnapshot("s1");
    await img.close();
    expectClean(p);
    expectContent(p, atS1);
    expect(JSON.parse(qemuImg("info", "--output=json", p)).snapshots).toBeUndefined();
  });

  it("lazy refcounts: an image left dirty is repaired on open", async () => {
    const p = next();
    const img = await createImage(p, 1 << 20, { lazy_refcounts: "on" });
    await img.write(0, new Uint8Array(200_000).fill(4));
    await img.flush();
    // Not closed: the dirty bit stays set, as after a crash.
    expect(JSON.parse(qemuImg("info", "--output=json", p))["dirty-flag"]).toBe(true);
    const again = await openImage(p);
    expect((await again.info())["dirty-flag"]).toBe(false);
    await again.close();
    expectClean(p);
    const model = new Uint8Array(1 << 20).fill(4, 0, 200_000);
    expectContent(p, model);
  });

  it("lazy refcounts: repairs an image qemu-io was killed in (dirty, refcounts missing)", async () => {
    const p = next();
    qemuImg("create", "-f", "qcow2", "-o", "lazy_refcounts=on,cluster_size=4096", p, "1M");
    spawnSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5 0 300k", "-c", "sigraise 9", p]);
    const before = qemuCheck(p);
    expect(before.status).toBe(2); // qemu's lazy refcounts left them unwritten
    expect(JSON.parse(qemuImg("info", "--output=json", p))["dirty-flag"]).toBe(true);
    const ro = await openImage(p, { readOnly: true });
    const model = new Uint8Array(1 << 20).fill(5, 0, 300 << 10);
    expect(Buffer.compare(Buffer.from(await readAll(ro)), Buffer.from(model))).toBe(0);
    await ro.close();
    const img = await openImage(p);
    await img.close();
    expectClean(p);
    expectContent(p, model);
    expect(JSON.parse(qemuImg("info", "--output=json", p))["dirty-flag"]).toBe(false);
  });

  it("check finds and repairs leaks and refcount corruption like qemu-img", async () => {
    const p = next();
    const img = await createImage(p, 1 << 20, { cluster_size: "4096" });
    await img.write(0, new Uint8Array(40_000).fill(1));
    await img.refcounts.alloc(3); // counted but never linked: leaked
    await img.write(40_000, new Uint8Array(9000).fill(1)); // data after them keeps them inside the file
    await img.close();
    const leaky = qemuCheck(p);
    expect(leaky.status).toBe(3);
    const ours = await openImage(p);
    expect((await ours.check()).leaks).toBe(leaky.json.leaks);
    const fixed = await ours.check("leaks");
    expect(fixed["leaks-fixed"]).toBe(3);
    expect(fixed.leaks).toBeUndefined();
    await ours.close();
    expectClean(p);

    // Zero the refcount of a data cluster behind the driver's back: a corruption.
    const { openSync, writeSync, readSync, closeSync } = await import("node:fs");
    const fd = openSync(p, "r+");
    const hdr = Buffer.alloc(64);
    readSync(fd, hdr, 0, 64, 0);
    const reftable = Number(hdr.readBigUInt64BE(48));
    const ent = Buffer.alloc(8);
    readSync(fd, ent, 0, 8, reftable);
    const block = Number(ent.readBigUInt64BE(0));
    const map = JSON.parse(qemuImg("map", "--output=json", p));
    const dataCluster = map[0].offset / 4096;
    writeSync(fd, Buffer.alloc(2), 0, 2, block + dataCluster * 2);
    closeSync(fd);
    const broken = qemuCheck(p);
    expect(broken.status).toBe(2);
    const img2 = await openImage(p);
    expect((await img2.check()).corruptions).toBe(broken.json.corruptions);
    const repaired = await img2.check("all");
    expect(repaired.corruptions).toBeUndefined();
    expect(repaired["corruptions-fixed"]).toBeGreaterThan(0);
    await img2.close();
    expectClean(p);
    expectContent(p, new Uint8Array(1 << 20).fill(1, 0, 49_000));
  });

  it("concurrent, overlapping requests complete in issue order", async () => {
    const p = next();
    const size = 2 << 20;
    const img = await createImage(p, size, { cluster_size: "4096" });
    const model = new Uint8Array(size);
    const r = rng(5);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const off = Math.floor(r() * (size - 20_000));
      const len = 1 + Math.floor(r() * 20_000);
      if (r() < 0.8) {
        const data = new Uint8Array(len).fill(i + 1);
        pending.push(img.write(off, data));
        model.set(data, off);
      } else {
        pending.push(img.writeZeroes(off, len));
        model.fill(0, off, off + len);
      }
      if (i % 10 === 0) pending.push(img.flush());
    }
    const seen = new Uint8Array(size);
    pending.push(img.read(0, seen));
    await Promise.all(pending);
    expect(Buffer.compare(Buffer.from(seen), Buffer.from(model))).toBe(0);
    await img.close();
    expectClean(p);
    expectContent(p, model);
  });

  it("writes of new data at different places reach the file together, and the image stays clean", async () => {
    const p = next();
    const size = 16 << 20;
    const img = await createImage(p, size, {});
    // Count data writes (>= one cluster) that overlap in time on the file.
    const source = img.source;
    const write = source.write.bind(source);
    let running = 0;
    let most = 0;
    source.write = async (offset: number, bytes: Uint8Array) => {
      const big = bytes.length >= img.clusterSize;
      if (big) most = Math.max(most, ++running);
      try {
        await new Promise((r) => setTimeout(r, 2));
        await write(offset, bytes);
      } finally {
        if (big) running--;
      }
    };
    const model = new Uint8Array(size);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      const data = new Uint8Array(1 << 20).fill(0x30 + i);
      writes.push(img.write(i * (2 << 20), data));
      model.set(data, i * (2 << 20));
    }
    await Promise.all(writes);
    expect(most).toBeGreaterThan(1);
    const seen = new Uint8Array(size);
    await img.read(0, seen);
    expect(Buffer.compare(Buffer.from(seen), Buffer.from(model))).toBe(0);
    await img.close();
    expectClean(p);
    expectContent(p, model);
  });

  it("refuses writes to read-only and extended-L2 images", async () => {
    const p = next();
    qemuImg("create", "-f", "qcow2", "-o", "extended_l2=on", p, "1M");
    const img = await openImage(p);
    await expect(img.write(0, new Uint8Array(1))).rejects.toBeInstanceOf(UnsupportedError);
    await img.close();
    const ro = await openImage(p, { readOnly: true });
    await expect(ro.write(0, new Uint8Array(1))).rejects.toThrow(/read-only/);
    await ro.close();
    await expect(createImage(next(), 1000)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
