import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BackplaneError, CorruptDataError, ReadOnlyError, UnsupportedError } from "@backplane/core";
import type { BackingOpener, SiblingOpener } from "@backplane/disk";
import { raw } from "@backplane/disk-raw";
import {
  concurrentWrites,
  contentSha256,
  fileSource,
  fixtureSource,
  fixtures,
  hasQemu,
  newFileSource,
  pattern,
  qemuImg,
  qemuImgStatus,
  qemuInfo,
  qemuIo,
  tempDir,
} from "@backplane/disk-test-support";
import { FileByteSource } from "@backplane/host-node";
import { describe, expect, it } from "vitest";
import { VmdkImage, vmdkFormat } from "../src/index.js";

/** A typed error class, as the corrupt-input cases expect them. */
type ErrorClass = new (message: string) => BackplaneError;

const MiB = 1 << 20;
const GiB = 1 << 30;

const openSibling: SiblingOpener = (name, relativeTo, { readOnly, create }) => {
  const path = resolve(dirname(relativeTo), name);
  return create ? FileByteSource.create(path) : FileByteSource.open(path, { readOnly });
};
const openBacking: BackingOpener = async (name, _format, relativeTo) =>
  VmdkImage.open(await fileSource(resolve(dirname(relativeTo), name), true), { openSibling });

async function open(path: string, readOnly = true): Promise<VmdkImage> {
  return VmdkImage.open(await fileSource(path, readOnly), { openSibling, openBacking, readOnly });
}

async function readAll(img: VmdkImage): Promise<Uint8Array> {
  const out = new Uint8Array(img.size);
  await img.read(0, out);
  return out;
}

type QemuInfo = { "virtual-size": number; "format-specific": { data: Record<string, unknown> } };

describe.skipIf(!hasQemu)("VMDK images made by qemu", () => {
  for (const sub of [
    "monolithicSparse",
    "monolithicFlat",
    "streamOptimized",
    "twoGbMaxExtentSparse",
    "twoGbMaxExtentFlat",
  ]) {
    it(`${sub}: same size, bytes, map and descriptor fields as qemu-img`, async () => {
      const dir = tempDir();
      const f = join(dir, "q.vmdk");
      const raw = join(dir, "src.raw");
      const content = new Uint8Array(5 * MiB + 3 * 512);
      content.fill(0x5a, 1000 * 1024, 1300 * 1024);
      content.set(pattern(70_000, 5), 4 * MiB + 100);
      writeFileSync(raw, content);
      // convert writes every subformat, streamOptimized included, and leaves zero grains unallocated.
      qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", `subformat=${sub}`, raw, f);
      qemuImg("convert", "-f", "vmdk", "-O", "raw", f, join(dir, "q.raw"));
      const img = await open(f);
      const info = qemuInfo(f) as QemuInfo;
      expect(img.size).toBe(info["virtual-size"]);
      expect(Buffer.compare(await readAll(img), readFileSync(join(dir, "q.raw")))).toBe(0);
      const ours = (await img.info())["format-specific"]?.data as Record<string, unknown>;
      for (const key of ["cid", "parent-cid", "create-type"])
        expect(ours[key]).toBe(info["format-specific"].data[key]);
      if (sub.endsWith("Sparse") || sub === "streamOptimized") {
        const map = JSON.parse(qemuImg("map", "--output=json", f)) as {
          start: number;
          length: number;
          data: boolean;
        }[];
        const status = await img.blockStatus(0, img.size);
        expect(status.map((e) => [e.start, e.length, e.data])).toEqual(
          map.map((e) => [e.start, e.length, e.data]),
        );
      }
      expect(await img.check()).toEqual(JSON.parse(qemuImg("check", "--output=json", f)));
      await img.close();
    });
  }

  for (const sub of ["monolithicFlat", "twoGbMaxExtentSparse"]) {
    it(`${sub} without openSibling: extents open read-only through openBacking as raw`, async () => {
      const dir = tempDir();
      const f = join(dir, "q.vmdk");
      qemuImg("create", "-q", "-f", "vmdk", "-o", `subformat=${sub}`, f, "3M");
      qemuIo(f, "vmdk", "write -P 0x3c 1M 5k");
      qemuImg("convert", "-f", "vmdk", "-O", "raw", f, join(dir, "q.raw"));
      const viaBacking: BackingOpener = async (name, format, relativeTo) => {
        expect(format).toBe("raw");
        return raw.open(await fileSource(resolve(dirname(relativeTo), name), true), { readOnly: true });
      };
      const img = await VmdkImage.open(await fileSource(f), { openBacking: viaBacking });
      expect(img.readOnly).toBe(true);
      expect(Buffer.compare(await readAll(img), readFileSync(join(dir, "q.raw")))).toBe(0);
      await expect(img.write(0, new Uint8Array(512))).rejects.toBeInstanceOf(ReadOnlyError);
      await img.close();
    });
  }

  for (const sub of ["twoGbMaxExtentSparse", "twoGbMaxExtentFlat"]) {
    it(`${sub} across extent boundaries (4.5 GiB)`, async () => {
      const f = join(tempDir(), "big.vmdk");
      qemuImg("create", "-q", "-f", "vmdk", "-o", `subformat=${sub}`, f, "4608M");
      const spots = [2 * GiB - 300 * 1024, 4 * GiB - 4096, 4608 * MiB - 512];
      qemuIo(
        f,
        "vmdk",
        ...spots.map((s, i) => `write -P ${0x21 + i} ${s} ${Math.min(600 * 1024, 4608 * MiB - s)}`),
      );
      const img = await open(f);
      expect(img.size).toBe(qemuInfo(f)["virtual-size"]);
      const ext = (await img.info())["format-specific"]?.data.extents as unknown[];
      expect(ext.length).toBe(
        ((qemuInfo(f) as QemuInfo)["format-specific"].data.extents as unknown[]).length,
      );
      for (const [i, s] of spots.entries()) {
        const len = Math.min(600 * 1024, img.size - s);
        const buf = new Uint8Array(len + 8192);
        const from = s - 4096;
        await img.read(from, buf.subarray(0, Math.min(buf.length, img.size - from)));
        const expected = new Uint8Array(buf.length);
        expected.fill(0x21 + i, 4096, 4096 + len);
        if (from + buf.length > img.size) expected.fill(0, img.size - from);
        expect(Buffer.compare(buf, expected)).toBe(0);
      }
      await img.close();
    });
  }
  it("reads a child qemu made over a parent (parentFileNameHint), falling through to the parent", async () => {
    const dir = tempDir();
    const parent = join(dir, "parent.vmdk");
    qemuImg("create", "-q", "-f", "vmdk", parent, "3M");
    qemuIo(parent, "vmdk", "write -P 0x44 0 3M");
    const child = join(dir, "child.vmdk");
    qemuImg("create", "-q", "-f", "vmdk", "-b", "parent.vmdk", "-F", "vmdk", child);
    qemuIo(child, "vmdk", "write -P 0x55 100k 10k", "write -z 1M 64k");
    qemuImg("convert", "-f", "vmdk", "-O", "raw", child, join(dir, "child.raw"));
    const img = await open(child);
    expect(img.backing).toBeDefined();
    expect(img.descriptor.parentCid).toBe((qemuInfo(parent) as QemuInfo)["format-specific"].data.cid);
    expect(Buffer.compare(await readAll(img), readFileSync(join(dir, "child.raw")))).toBe(0);
    const { "actual-size": _, ...expectedInfo } = qemuInfo(child);
    expect(await img.info()).toEqual(expectedInfo);
    await img.close();
  });
});

describe.skipIf(!hasQemu)("VMDK images we create, judged by qemu-img", () => {
  for (const sub of ["monolithicSparse", "monolithicFlat", "streamOptimized"]) {
    it(`create subformat=${sub}, unaligned writes: qemu-img check clean and compare equal`, async () => {
      const dir = tempDir();
      const f = join(dir, "ours.vmdk");
      const size = 5 * MiB + 7 * 512;
      const img = await VmdkImage.create(await newFileSource(f), {
        size,
        options: { subformat: sub },
        openSibling,
      });
      const expected = new Uint8Array(size);
      const writes: [number, number][] = [
        [1, 1000],
        [MiB - 3, 10],
        [3 * MiB + 12345, size - 3 * MiB - 12345],
        [700_000, 5],
        [10, 20],
      ];
      for (const [i, [off, len]] of writes.entries()) {
        const data = pattern(len, i + 1);
        await img.write(off, data);
        expected.set(data, off);
      }
      expect(Buffer.compare(await readAll(img), expected)).toBe(0);
      await img.close();
      writeFileSync(join(dir, "exp.raw"), expected);
      const info = qemuInfo(f) as QemuInfo;
      expect(info["virtual-size"]).toBe(size);
      expect(info["format-specific"].data["create-type"]).toBe(sub);
      const check = qemuImgStatus("check", "-f", "vmdk", f);
      expect(check.out).toContain("No errors were found");
      expect(qemuImgStatus("compare", "-f", "vmdk", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
      const reopened = await open(f, false);
      expect(Buffer.compare(await readAll(reopened), expected)).toBe(0);
      // A second session appends to the same image.
      const more = pattern(3000, 99);
      await reopened.write(2 * MiB + 17, more);
      expected.set(more, 2 * MiB + 17);
      await reopened.close();
      writeFileSync(join(dir, "exp.raw"), expected);
      expect(qemuImgStatus("check", "-f", "vmdk", f).status).toBe(0);
      expect(qemuImgStatus("compare", "-f", "vmdk", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
    });
  }

  for (const sub of [
    "monolithicSparse",
    "streamOptimized",
    "monolithicFlat",
    "twoGbMaxExtentSparse",
    "twoGbMaxExtentFlat",
  ]) {
    it(`writes into a ${sub} image qemu made and qemu reads it back`, async () => {
      const dir = tempDir();
      const raw = join(dir, "src.raw");
      const expected = new Uint8Array(4 * MiB);
      expected.fill(0x77, 0, 1536 * 1024);
      writeFileSync(raw, expected);
      const f = join(dir, "q.vmdk");
      qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", `subformat=${sub}`, raw, f);
      const img = await open(f, false);
      const cid = img.descriptor.cid;
      await img.write(MiB + 100, pattern(2 * MiB, 9));
      expected.set(pattern(2 * MiB, 9), MiB + 100);
      await img.close();
      writeFileSync(join(dir, "exp.raw"), expected);
      expect(qemuImgStatus("check", "-f", "vmdk", f).status).toBe(0);
      expect(qemuImgStatus("compare", "-f", "vmdk", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
      expect((qemuInfo(f) as QemuInfo)["format-specific"].data.cid).not.toBe(cid);
    });
  }

  for (const sub of ["monolithicSparse", "streamOptimized"]) {
    it(`${sub}: concurrent writes allocate without clobbering each other (qemu-img check and compare)`, async () => {
      const dir = tempDir();
      const f = join(dir, "c.vmdk");
      const img = await VmdkImage.create(await newFileSource(f), {
        size: 6 * MiB,
        options: { subformat: sub },
      });
      const expected = await concurrentWrites(img);
      await img.close();
      writeFileSync(join(dir, "exp.raw"), expected);
      expect(qemuImgStatus("check", "-f", "vmdk", f).status).toBe(0);
      expect(qemuImgStatus("compare", "-f", "vmdk", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
    });
  }

  it("writes into a lone extent of a twoGbMaxExtentSparse image, opened alone, keep it a valid extent", async () => {
    const dir = tempDir();
    const f = join(dir, "t.vmdk");
    qemuImg("create", "-q", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", f, "3M");
    const extent = join(dir, "t-s001.vmdk");
    const img = await open(extent, false);
    await img.write(4096, pattern(8192, 5));
    await img.close();
    const expected = new Uint8Array(3 * MiB);
    expected.set(pattern(8192, 5), 4096);
    writeFileSync(join(dir, "exp.raw"), expected);
    expect(qemuImgStatus("check", "-f", "vmdk", f).status).toBe(0);
    expect(qemuImgStatus("compare", "-f", "vmdk", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
  });

  it("zeroed_grain=on: zeroes over a parent become zeroed-grain entries qemu reads as zero", async () => {
    const dir = tempDir();
    const parent = join(dir, "parent.vmdk");
    qemuImg("create", "-q", "-f", "vmdk", parent, "2M");
    qemuIo(parent, "vmdk", "write -P 0x44 0 2M");
    const child = join(dir, "child.vmdk");
    const img = await VmdkImage.create(await newFileSource(child), {
      backingFile: "parent.vmdk",
      openBacking,
      options: { zeroed_grain: "on", compat6: "on", toolsversion: "12345" },
    });
    const before = await img.source.size();
    await img.write(64 * 1024, new Uint8Array(128 * 1024)); // two whole grains of zeroes
    expect(await img.source.size()).toBe(before); // no grain stored
    await img.write(512 * 1024, pattern(100, 3));
    await img.close();
    const expected = new Uint8Array(2 * MiB).fill(0x44);
    expected.fill(0, 64 * 1024, 192 * 1024);
    expected.set(pattern(100, 3), 512 * 1024);
    writeFileSync(join(dir, "exp.raw"), expected);
    expect(qemuImgStatus("check", "-f", "vmdk", child).status).toBe(0);
    expect(qemuImgStatus("compare", "-f", "vmdk", "-F", "raw", child, join(dir, "exp.raw")).status).toBe(0);
    const map = JSON.parse(qemuImg("map", "--output=json", child)) as {
      start: number;
      zero: boolean;
      depth: number;
    }[];
    expect(map.find((e) => e.start === 64 * 1024)).toMatchObject({ zero: true, depth: 0 });
    const text = readFileSync(child)
      .subarray(512, 512 * 21)
      .toString("latin1");
    expect(text).toContain('ddb.virtualHWVersion = "6"');
    expect(text).toContain('ddb.toolsVersion = "12345"');
  });

  it("a write needing a grain table that is not allocated fails typed and leaves the header intact", async () => {
    const f = join(tempDir(), "nogt.vmdk");
    await (await VmdkImage.create(await newFileSource(f), { size: 4 * MiB })).close();
    const b = readFileSync(f);
    const header = Buffer.from(b.subarray(0, 512));
    b.writeUInt32LE(0, Number(b.readBigUInt64LE(56)) * 512); // grain directory entry 0
    b.writeUInt32LE(0, Number(b.readBigUInt64LE(48)) * 512); // and its redundant copy
    writeFileSync(f, b);
    const img = await open(f, false);
    await expect(img.write(0, pattern(512, 1))).rejects.toBeInstanceOf(UnsupportedError);
    await img.close();
    expect(Buffer.compare(readFileSync(f).subarray(0, 512), header)).toBe(0);
    expect(qemuImgStatus("check", "-f", "vmdk", f).status).toBe(0);
  });

  it("child with a parent (parentFileNameHint, parentCID): qemu sees parent plus child data", async () => {
    const dir = tempDir();
    const parent = join(dir, "parent.vmdk");
    qemuImg("create", "-q", "-f", "vmdk", parent, "3M");
    qemuIo(parent, "vmdk", "write -P 0x44 0 3M");
    const child = join(dir, "child.vmdk");
    const img = await VmdkImage.create(await newFileSource(child), {
      backingFile: "parent.vmdk",
      openBacking,
    });
    expect(img.descriptor.parentCid).toBe((qemuInfo(parent) as QemuInfo)["format-specific"].data.cid);
    const expected = new Uint8Array(3 * MiB).fill(0x44);
    await img.write(70_000, pattern(100, 1));
    expected.set(pattern(100, 1), 70_000);
    expect(Buffer.compare(await readAll(img), expected)).toBe(0);
    await img.close();
    writeFileSync(join(dir, "exp.raw"), expected);
    expect(qemuInfo(child)["backing-filename"]).toBe("parent.vmdk");
    expect(qemuImgStatus("compare", "-f", "vmdk", "-F", "raw", child, join(dir, "exp.raw")).status).toBe(0);
  });
});

async function sparseBytes(sub = "monolithicSparse"): Promise<Buffer> {
  const f = join(tempDir(), "base.vmdk");
  const img = await VmdkImage.create(await newFileSource(f), { size: 4 * MiB, options: { subformat: sub } });
  await img.write(MiB, pattern(70_000, 3));
  await img.close();
  return readFileSync(f);
}

async function openBytes(bytes: Uint8Array): Promise<VmdkImage> {
  const f = join(tempDir(), "x.vmdk");
  writeFileSync(f, bytes);
  return VmdkImage.open(await fileSource(f, true), { noBacking: true });
}

describe("corrupt VMDK images", () => {
  const cases: [string, (b: Buffer) => void, ErrorClass][] = [
    ["version 4", (b) => b.writeUInt32LE(4, 4), UnsupportedError],
    ["grain size not a power of two", (b) => b.writeUInt32LE(100, 20), CorruptDataError],
    ["absurd capacity", (b) => b.writeUInt32LE(0x7fffffff, 16), CorruptDataError],
    ["grain directory past end of file", (b) => b.writeUInt32LE(0x7fffffff, 56), CorruptDataError],
    ["newline characters damaged", (b) => (b[75] = 0x0a), CorruptDataError],
    [
      "unknown compression",
      (b) => {
        b.writeUInt16LE(7, 77);
        b.writeUInt16LE(7, b.length - 1024 + 77); // the footer is what counts in a stream
      },
      UnsupportedError,
    ],
    ["descriptor without createType", (b) => b.fill(0x20, 512 + 40, 512 + 120), CorruptDataError],
  ];
  for (const [name, mutate, cls] of cases) {
    it(`${name} -> ${cls.name}`, async () => {
      const b = await sparseBytes(name === "unknown compression" ? "streamOptimized" : "monolithicSparse");
      mutate(b);
      await expect(openBytes(b)).rejects.toBeInstanceOf(cls);
    });
  }

  it("a grain table pointing past the end of the file: read fails typed, check counts it", async () => {
    const b = await sparseBytes();
    const gd = b.readUInt32LE(56) * 512;
    const gt = b.readUInt32LE(gd) * 512;
    b.writeUInt32LE(0x7fffff, gt + 16 * 4); // grain 16 = 1 MiB
    const img = await openBytes(b);
    await expect(img.read(MiB, new Uint8Array(512))).rejects.toBeInstanceOf(CorruptDataError);
    expect((await img.check()).corruptions).toBe(1);
    await img.close();
  });

  it("a damaged compressed grain reads as CorruptDataError", async () => {
    const b = await sparseBytes("streamOptimized");
    const grain = 128 * 512; // the first grain follows the descriptor
    b.fill(0xee, grain + 12, grain + 14); // the zlib header
    const img = await openBytes(b);
    await expect(img.read(MiB, new Uint8Array(512))).rejects.toBeInstanceOf(CorruptDataError);
    await img.close();
  });

  it("a descriptor file naming a missing extent reports the failure", async () => {
    const f = join(tempDir(), "d.vmdk");
    writeFileSync(
      f,
      '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 8 FLAT "missing.img" 0\n',
    );
    await expect(VmdkImage.open(await fileSource(f, true), { openSibling })).rejects.toBeInstanceOf(
      BackplaneError,
    );
    await expect(VmdkImage.open(await fileSource(f, true))).rejects.toBeInstanceOf(BackplaneError);
  });

  for (const sub of ["monolithicSparse", "streamOptimized"]) {
    it(`random ${sub} header and metadata mutations give a typed error or an image that reads`, async () => {
      const base = await sparseBytes(sub);
      const count = process.env.BACKPLANE_LONG ? 2000 : 60;
      let x = 777;
      for (let i = 0; i < count; i++) {
        const b = Buffer.from(base);
        for (let k = 0; k < 3; k++) {
          x = (x * 1103515245 + 12345) >>> 0;
          // The header, then anywhere: descriptor, grain directory and tables, markers, grains.
          b[k === 0 ? x % 80 : x % b.length] = x >>> 24;
        }
        if (sub === "streamOptimized") b.copy(b, b.length - 1024, 0, 80);
        try {
          const img = await openBytes(b);
          const buf = new Uint8Array(Math.min(img.size, 2 * MiB));
          await img.read(0, buf);
          await img.blockStatus(0, Math.min(img.size, 64 * MiB));
          await img.check();
          await img.close();
        } catch (e) {
          expect(e).toBeInstanceOf(BackplaneError);
        }
      }
    });
  }
});

describe("vmdkFormat", () => {
  it("probes sparse extents and descriptor files", async () => {
    const b = await sparseBytes();
    expect(vmdkFormat.probe(b.subarray(0, 512), b.length)).toBe(100);
    const text = new TextEncoder().encode('# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\n');
    expect(vmdkFormat.probe(text, text.length)).toBe(100);
    expect(vmdkFormat.probe(new Uint8Array(512), 512)).toBe(0);
  });
});

describe("golden fixtures (made by fixtures/make-fixtures.sh; no qemu needed)", () => {
  const dir = fileURLToPath(new URL("../fixtures", import.meta.url));
  for (const f of fixtures(dir)) {
    it(`${f.file} (${f.options || "defaults"}): virtual size and content as qemu-img reported`, async () => {
      const img = await vmdkFormat.open(fixtureSource(dir, f), { readOnly: true });
      expect(img.size).toBe(f["virtual-size"]);
      expect(await contentSha256(img)).toBe(f["raw-sha256"]);
      await img.close();
    });
  }
});
