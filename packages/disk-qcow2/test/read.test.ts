/**
 * Images made by qemu-img/qemu-io read byte-identically to
 * `qemu-img convert -O raw`, across versions, cluster sizes, refcount widths,
 * compression types, backing chains, snapshots, extended L2 and lazy
 * refcounts; info, map and check agree with qemu-img.
 */
import { chainBlockStatus } from "@backplane/disk";
import { afterAll, describe, expect, it } from "vitest";
import { qcow2 } from "../src/index.js";
import { hasQemu, openImage, qemuImg, qemuIo, qemuRaw, readAll, tempDir } from "./helpers.js";

const { dir, cleanup } = tempDir();
afterAll(cleanup);

let n = 0;
function fresh(opts: string, size = "4M", extra: string[] = []): string {
  const p = `${dir}/img${n++}.qcow2`;
  qemuImg("create", "-f", "qcow2", ...(opts ? ["-o", opts] : []), ...extra, p, size);
  return p;
}

/** A write pattern touching partial clusters, several L2 tables' worth, zeroes and discards. */
function scribble(p: string, clusterSize: number): void {
  const cs = Math.min(clusterSize, 65536);
  qemuIo(p, [
    "write -P 0xa1 0 100k",
    `write -P 0x22 ${cs * 3 + 7} 1000`,
    "write -P 0x33 1M 300k",
    `write -z ${Math.ceil((1024 * 1024 + 50 * 1024) / cs) * cs} ${cs * 2}`,
    "write -P 0x44 3M 64k",
    `discard ${Math.ceil((3 * 1024 * 1024) / cs) * cs} ${cs}`,
    "write -P 0x55 4190208 4096",
  ]);
}

async function expectSameAsQemu(p: string): Promise<void> {
  const img = await openImage(p, { readOnly: true });
  try {
    const ours = await readAll(img);
    const theirs = qemuRaw(p, dir);
    expect(ours.length).toBe(theirs.length);
    expect(Buffer.compare(Buffer.from(ours), Buffer.from(theirs))).toBe(0);
  } finally {
    await img.close();
  }
}

/** Our check() reports what qemu-img check reports, field by field. */
async function expectCheckLikeQemu(p: string): Promise<void> {
  const theirs = JSON.parse(qemuImg("check", "--output=json", p));
  const img = await openImage(p, { readOnly: true });
  const ours = await img.check();
  await img.close();
  expect(ours).toEqual(theirs);
}

describe.skipIf(!hasQemu)("reading images written by qemu", () => {
  for (const compat of ["0.10", "1.1"]) {
    for (const cs of [512, 4096, 65536, 2 * 1024 * 1024]) {
      it(`compat=${compat} cluster_size=${cs}`, async () => {
        const p = fresh(`compat=${compat},cluster_size=${cs}`, cs > 65536 ? "8M" : "4M");
        scribble(p, cs);
        await expectSameAsQemu(p);
        await expectCheckLikeQemu(p);
      });
    }
  }

  for (const bits of [1, 2, 4, 8, 16, 32, 64]) {
    it(`refcount_bits=${bits}`, async () => {
      const p = fresh(`refcount_bits=${bits},cluster_size=4096`);
      scribble(p, 4096);
      await expectSameAsQemu(p);
      const img = await openImage(p, { readOnly: true });
      const check = await img.check();
      expect(check.corruptions ?? 0).toBe(0);
      expect(check.leaks ?? 0).toBe(0);
      await img.close();
    });
  }

  for (const type of ["zlib", "zstd"]) {
    for (const cs of [4096, 65536]) {
      it(`compressed (${type}, cluster ${cs})`, async () => {
        const src = fresh(`cluster_size=${cs}`);
        scribble(src, cs);
        const p = `${dir}/c${n++}.qcow2`;
        qemuImg("convert", "-c", "-O", "qcow2", "-o", `compression_type=${type},cluster_size=${cs}`, src, p);
        await expectSameAsQemu(p);
        await expectCheckLikeQemu(p);
        const img = await openImage(p, { readOnly: true });
        const info = await img.info();
        expect(info["format-specific"]?.data["compression-type"]).toBe(type);
        const check = await img.check();
        expect(check["compressed-clusters"]).toBeGreaterThan(0);
        expect(check.corruptions ?? 0).toBe(0);
        await img.close();
      });
    }
  }

  it("backing chain three deep over a raw base", async () => {
    const base = `${dir}/base${n}.raw`;
    qemuImg("create", "-f", "raw", base, "4M");
    qemuIo(base, ["write -P 0x10 0 4M"], "raw");
    const mid = fresh("", "4M", ["-b", base, "-F", "raw"]);
    qemuIo(mid, ["write -P 0x20 64k 128k", "write -z 1M 64k", "discard 2M 64k"]);
    const mid2 = fresh("compat=0.10,cluster_size=4096", "4M", ["-b", mid, "-F", "qcow2"]);
    qemuIo(mid2, ["write -P 0x30 100k 10k"], "qcow2");
    const top = fresh("cluster_size=16384", "6M", ["-b", mid2, "-F", "qcow2"]);
    qemuIo(top, ["write -P 0x40 150k 33k", "write -P 0x41 4M 1M", "write -z 3M 16k"]);
    await expectSameAsQemu(top);
    const img = await openImage(top, { readOnly: true });
    const info = await img.info();
    expect(info["backing-filename"]).toBe(mid2);
    expect(info["backing-filename-format"]).toBe("qcow2");
    await img.close();
  });

  it("internal snapshots: active state and snapshot list", async () => {
    const p = fresh("cluster_size=4096");
    scribble(p, 4096);
    qemuImg("snapshot", "-c", "one", p);
    qemuIo(p, ["write -P 0x77 0 20k", "discard 1M 64k"]);
    qemuImg("snapshot", "-c", "two", p);
    qemuIo(p, ["write -P 0x78 8k 4k"]);
    await expectSameAsQemu(p);
    await expectCheckLikeQemu(p);
    const img = await openImage(p, { readOnly: true });
    const list = await img.listSnapshots();
    const theirs = JSON.parse(qemuImg("info", "--output=json", p)).snapshots;
    expect(list).toEqual(theirs);
    const check = await img.check();
    expect(check.corruptions ?? 0).toBe(0);
    expect(check.leaks ?? 0).toBe(0);
    await img.close();
  });

  it("extended L2 entries (subclusters)", async () => {
    const p = fresh("extended_l2=on,cluster_size=65536");
    qemuIo(p, ["write -P 0x61 0 3k", "write -P 0x62 6k 2k", "write -z 64k 64k", "write -P 0x63 130k 7k"]);
    await expectSameAsQemu(p);
    await expectCheckLikeQemu(p);
    const img = await openImage(p, { readOnly: true });
    expect((await img.info())["format-specific"]?.data["extended-l2"]).toBe(true);
    await img.close();
  });

  it("extended L2 over a backing file", async () => {
    const base = fresh("cluster_size=4096");
    qemuIo(base, ["write -P 0x01 0 1M"]);
    const p = fresh("extended_l2=on,cluster_size=32768", "4M", ["-b", base, "-F", "qcow2"]);
    qemuIo(p, ["write -P 0x61 1k 1k", "write -z 40k 1k", "write -P 0x62 70k 2k"]);
    await expectSameAsQemu(p);
  });

  it("lazy refcounts", async () => {
    const p = fresh("lazy_refcounts=on");
    scribble(p, 65536);
    await expectSameAsQemu(p);
    const img = await openImage(p, { readOnly: true });
    expect((await img.info())["format-specific"]?.data["lazy-refcounts"]).toBe(true);
    await img.close();
  });
});

describe.skipIf(!hasQemu)("info, map and check agree with qemu-img", () => {
  it("info format-specific fields", async () => {
    for (const opts of ["compat=0.10", "compat=1.1,lazy_refcounts=on,refcount_bits=8", "extended_l2=on"]) {
      const p = fresh(opts);
      const theirs = JSON.parse(qemuImg("info", "--output=json", p));
      const img = await openImage(p, { readOnly: true });
      const ours = await img.info();
      expect(ours["format-specific"]).toEqual(theirs["format-specific"]);
      expect(ours["virtual-size"]).toBe(theirs["virtual-size"]);
      expect(ours["cluster-size"]).toBe(theirs["cluster-size"]);
      expect(ours["dirty-flag"]).toBe(theirs["dirty-flag"]);
      await img.close();
    }
  });

  it("map matches qemu-img map (plain, compressed, zero-allocated, over a backing file)", async () => {
    const plain = fresh("cluster_size=4096");
    scribble(plain, 4096);
    const compressed = `${dir}/mapc.qcow2`;
    qemuImg("convert", "-c", "-O", "qcow2", plain, compressed);
    const zeroAlloc = fresh("cluster_size=65536");
    qemuIo(zeroAlloc, ["write -P 1 0 1M", "write -z 64k 128k"]);
    const overlay = fresh("cluster_size=65536", "4M", ["-b", plain, "-F", "qcow2"]);
    qemuIo(overlay, ["write -P 2 128k 64k", "write -z 1M 64k"]);
    for (const p of [plain, compressed, zeroAlloc, overlay]) {
      const theirs = JSON.parse(qemuImg("map", "--output=json", p)) as Record<string, unknown>[];
      const img = await openImage(p, { readOnly: true });
      const ours = await chainBlockStatus(img, 0, img.size);
      await img.close();
      const strip = (e: Record<string, unknown>) => ({
        start: e.start,
        length: e.length,
        depth: e.depth,
        data: e.data,
        zero: e.zero,
        offset: e.offset,
      });
      expect(
        ours.map((e) => strip(e as unknown as Record<string, unknown>)),
        p,
      ).toEqual(theirs.map(strip));
    }
  });

  it("check matches qemu-img check on a clean image", async () => {
    const p = fresh("cluster_size=4096");
    scribble(p, 4096);
    const theirs = JSON.parse(qemuImg("check", "--output=json", p));
    const img = await openImage(p, { readOnly: true });
    const ours = await img.check();
    await img.close();
    expect(ours.filename).toBe(theirs.filename);
    for (const k of [
      "check-errors",
      "image-end-offset",
      "total-clusters",
      "allocated-clusters",
      "fragmented-clusters",
      "compressed-clusters",
    ] as const) {
      expect([k, ours[k]]).toEqual([k, theirs[k]]);
    }
  });
});

describe.skipIf(!hasQemu)("measure agrees with qemu-img measure -O qcow2", () => {
  for (const opts of [
    "",
    "cluster_size=512",
    "cluster_size=4096,refcount_bits=1",
    "cluster_size=2M,refcount_bits=64",
  ]) {
    for (const size of [0, 1 << 20, 3_000_000_000, 1 << 40]) {
      it(`--size ${size} ${opts}`, () => {
        const options = Object.fromEntries(opts ? opts.split(",").map((kv) => kv.split("=")) : []);
        const theirs = JSON.parse(
          qemuImg(
            "measure",
            "--output=json",
            "--size",
            String(size),
            "-O",
            "qcow2",
            ...(opts ? ["-o", opts] : []),
          ),
        );
        expect(qcow2.measure?.({ size, options })).toEqual(theirs);
      });
    }
  }

  it("of an image with data", async () => {
    const p = fresh("cluster_size=4096");
    scribble(p, 4096);
    const img = await openImage(p, { readOnly: true });
    const extents = await chainBlockStatus(img, 0, img.size);
    for (const opts of ["cluster_size=65536", "cluster_size=4096,refcount_bits=8", "cluster_size=512"]) {
      const theirs = JSON.parse(qemuImg("measure", "--output=json", "-O", "qcow2", "-o", opts, p));
      const options = Object.fromEntries(opts.split(",").map((kv) => kv.split("=")));
      const ours = qcow2.measure?.({ size: img.size, extents, options });
      expect(ours).toEqual({ required: theirs.required, "fully-allocated": theirs["fully-allocated"] });
    }
    await img.close();
  });
});
