import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BackplaneError, CorruptDataError, UnsupportedError } from "@backplane/core";
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
import { describe, expect, it } from "vitest";
import { VdiImage, vdiFormat } from "../src/index.js";

/** A typed error class, as the corrupt-input cases expect them. */
type ErrorClass = new (message: string) => BackplaneError;

const MiB = 1 << 20;

async function readAll(img: VdiImage): Promise<Uint8Array> {
  const out = new Uint8Array(img.size);
  await img.read(0, out);
  return out;
}

describe.skipIf(!hasQemu)("VDI images made by qemu", () => {
  for (const kind of ["dynamic", "static"] as const) {
    it(`reads a ${kind} image byte-identically to qemu-img convert`, async () => {
      const dir = tempDir();
      const f = join(dir, "q.vdi");
      qemuImg("create", "-q", "-f", "vdi", ...(kind === "static" ? ["-o", "static=on"] : []), f, "5M");
      qemuIo(f, "vdi", "write -P 0x5a 1000k 300k", "write -P 0x11 4095k 2k", "write -z 1100k 4k");
      qemuImg("convert", "-O", "raw", f, join(dir, "q.raw"));
      const img = await VdiImage.open(await fileSource(f, true));
      const { "actual-size": _, ...expectedInfo } = qemuInfo(f);
      expect(await img.info()).toEqual(expectedInfo);
      expect(Buffer.from(await readAll(img)).equals(readFileSync(join(dir, "q.raw")))).toBe(true);
      const ours = await img.blockStatus(0, img.size);
      if (kind === "dynamic") {
        const map = JSON.parse(qemuImg("map", "--output=json", f)) as {
          start: number;
          length: number;
          data: boolean;
        }[];
        expect(ours.map((e) => [e.start, e.length, e.data])).toEqual(
          map.map((e) => [e.start, e.length, e.data]),
        );
      } else {
        // qemu also looks for holes in the host file; the image itself maps every block.
        expect(ours).toEqual([
          { start: 0, length: img.size, depth: 0, present: true, zero: false, data: true, offset: 1024 },
        ]);
      }
      expect(await img.check()).toEqual(JSON.parse(qemuImg("check", "--output=json", f)));
      await img.close();
    });
  }

  it("reports the virtual size qemu-img reports for an odd size", async () => {
    const f = join(tempDir(), "odd.vdi");
    qemuImg("create", "-q", "-f", "vdi", f, "3000001");
    const img = await VdiImage.open(await fileSource(f, true));
    expect(img.size).toBe(qemuInfo(f)["virtual-size"]);
    await img.close();
  });
});

describe.skipIf(!hasQemu)("VDI images we create, judged by qemu-img", () => {
  for (const kind of ["off", "on"]) {
    it(`create static=${kind}, unaligned writes: qemu-img check clean and compare equal`, async () => {
      const dir = tempDir();
      const f = join(dir, "ours.vdi");
      const size = 3 * MiB + 7 * 512;
      const img = await VdiImage.create(await newFileSource(f), { size, options: { static: kind } });
      const expected = new Uint8Array(size);
      const writes: [number, number][] = [
        [1, 1000],
        [MiB - 3, 10],
        [2 * MiB + 12345, MiB + 7 * 512 - 12345],
        [700_000, 5],
      ];
      for (const [i, [off, len]] of writes.entries()) {
        const data = pattern(len, i + 1);
        await img.write(off, data);
        expected.set(data, off);
      }
      expect(Buffer.compare(await readAll(img), expected)).toBe(0);
      await img.close();
      writeFileSync(join(dir, "exp.raw"), expected);
      expect(qemuInfo(f)["virtual-size"]).toBe(size);
      const check = qemuImgStatus("check", "-f", "vdi", f);
      expect(check.out).toContain("No errors were found");
      expect(check.status).toBe(0);
      expect(qemuImgStatus("compare", "-f", "vdi", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
      const reopened = await VdiImage.open(await fileSource(f));
      expect(Buffer.compare(await readAll(reopened), expected)).toBe(0);
      expect((await reopened.check()).corruptions).toBeUndefined();
      await reopened.close();
    });
  }

  it("writes into an image qemu made and qemu reads it back", async () => {
    const dir = tempDir();
    const f = join(dir, "q.vdi");
    qemuImg("create", "-q", "-f", "vdi", f, "4M");
    qemuIo(f, "vdi", "write -P 0x77 0 1536k");
    const img = await VdiImage.open(await fileSource(f));
    await img.write(MiB + 100, pattern(2 * MiB, 9));
    const expected = new Uint8Array(4 * MiB);
    expected.fill(0x77, 0, 1536 * 1024);
    expected.set(pattern(2 * MiB, 9), MiB + 100);
    await img.close();
    writeFileSync(join(dir, "exp.raw"), expected);
    expect(qemuImgStatus("check", "-f", "vdi", f).status).toBe(0);
    expect(qemuImgStatus("compare", "-f", "vdi", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
  });

  it("concurrent writes allocate without clobbering each other (qemu-img check and compare)", async () => {
    const dir = tempDir();
    const f = join(dir, "c.vdi");
    const img = await VdiImage.create(await newFileSource(f), { size: 24 * MiB });
    const expected = await concurrentWrites(img);
    await img.close();
    writeFileSync(join(dir, "exp.raw"), expected);
    expect(qemuImgStatus("check", "-f", "vdi", f).status).toBe(0);
    expect(qemuImgStatus("compare", "-f", "vdi", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
  });

  it("check() finds a data block used twice, as qemu-img check does", async () => {
    const f = join(tempDir(), "dup.vdi");
    qemuImg("create", "-q", "-f", "vdi", f, "3M");
    qemuIo(f, "vdi", "write 0 1M");
    const bytes = readFileSync(f);
    bytes.writeUInt32LE(0, 0x204); // block 1 -> data block 0, as block 0
    bytes.writeUInt32LE(2, 0x184); // two blocks allocated
    writeFileSync(f, bytes);
    expect(qemuImgStatus("check", "-f", "vdi", f).status).not.toBe(0);
    const img = await VdiImage.open(await fileSource(f, true));
    const qemu = qemuImgStatus("check", "--output=json", "-f", "vdi", f);
    expect(await img.check()).toEqual(JSON.parse(qemu.stdout));
    await img.close();
  });
});

/** A fresh 3 MiB dynamic image with one block allocated, built by our create. */
async function freshImageBytes(): Promise<Uint8Array> {
  const f = join(tempDir(), "base.vdi");
  const img = await VdiImage.create(await newFileSource(f), { size: 3 * MiB });
  await img.write(MiB, pattern(4096, 3));
  await img.close();
  return readFileSync(f);
}

async function openBytes(bytes: Uint8Array): Promise<VdiImage> {
  const f = join(tempDir(), "x.vdi");
  writeFileSync(f, bytes);
  return VdiImage.open(await fileSource(f, true));
}

describe("corrupt VDI headers", () => {
  const cases: [string, (b: Buffer) => void, ErrorClass][] = [
    ["bad signature", (b) => b.writeUInt32LE(0x12345678, 0x40), CorruptDataError],
    ["version 0", (b) => b.writeUInt32LE(0x00000001, 0x44), UnsupportedError],
    ["differencing image", (b) => b.writeUInt32LE(4, 0x4c), UnsupportedError],
    ["absurd block count", (b) => b.writeUInt32LE(0xfffffff0, 0x180), CorruptDataError],
    ["absurd disk size", (b) => b.writeUInt32LE(0xffffffff, 0x174), CorruptDataError],
    ["block size zero", (b) => b.writeUInt32LE(0, 0x178), CorruptDataError],
    ["block map entry out of range", (b) => b.writeUInt32LE(77, 0x200), CorruptDataError],
    ["block map past end of file", (b) => b.writeUInt32LE(0x7fff0000, 0x154), CorruptDataError],
    ["truncated", () => {}, CorruptDataError],
  ];
  for (const [name, mutate, cls] of cases) {
    it(`${name} -> ${cls.name}`, async () => {
      let b = Buffer.from(await freshImageBytes());
      if (name === "truncated") b = b.subarray(0, 300);
      mutate(b);
      await expect(openBytes(b)).rejects.toBeInstanceOf(cls);
    });
  }

  it("random header mutations give a typed error or an image that reads", async () => {
    const base = await freshImageBytes();
    const count = process.env.BACKPLANE_LONG ? 2000 : 60;
    let x = 12345;
    for (let i = 0; i < count; i++) {
      const b = Buffer.from(base);
      for (let k = 0; k < 4; k++) {
        x = (x * 1103515245 + 12345) >>> 0;
        b[k < 3 ? 0x40 + (x % 0x1d0) : 0x200 + (x % 16)] = x >>> 24; // header, block map
      }
      try {
        const img = await openBytes(b);
        const buf = new Uint8Array(Math.min(img.size, 64 * 1024));
        await img.read(0, buf);
        await img.blockStatus(0, img.size);
        await img.close();
      } catch (e) {
        expect(e).toBeInstanceOf(BackplaneError);
      }
    }
  });
});

describe("vdiFormat", () => {
  it("probes by signature", async () => {
    const b = await freshImageBytes();
    expect(vdiFormat.probe(b.subarray(0, 512), b.length)).toBe(100);
    expect(vdiFormat.probe(new Uint8Array(512), 512)).toBe(0);
  });
});

describe("golden fixtures (made by fixtures/make-fixtures.sh; no qemu needed)", () => {
  const dir = fileURLToPath(new URL("../fixtures", import.meta.url));
  for (const f of fixtures(dir)) {
    it(`${f.file} (${f.options || "defaults"}): virtual size and content as qemu-img reported`, async () => {
      const img = await vdiFormat.open(fixtureSource(dir, f), { readOnly: true });
      expect(img.size).toBe(f["virtual-size"]);
      expect(await contentSha256(img)).toBe(f["raw-sha256"]);
      await img.close();
    });
  }
});
