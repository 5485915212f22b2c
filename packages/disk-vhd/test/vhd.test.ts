import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BackplaneError, CorruptDataError, UnsupportedError } from "@backplane/core";
import type { BackingOpener } from "@backplane/disk";
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
import { VhdImage, vpcFormat } from "../src/index.js";

/** A typed error class, as the corrupt-input cases expect them. */
type ErrorClass = new (message: string) => BackplaneError;

const MiB = 1 << 20;

async function readAll(img: VhdImage): Promise<Uint8Array> {
  const out = new Uint8Array(img.size);
  await img.read(0, out);
  return out;
}

/** Footer checksum, computed here independently of the code under test. */
function fixChecksum(b: Buffer, at: number, length: number, sumAt: number): void {
  b.writeUInt32BE(0, at + sumAt);
  let sum = 0;
  for (let i = at; i < at + length; i++) sum += b[i];
  b.writeUInt32BE(~sum >>> 0, at + sumAt);
}

const openBacking: BackingOpener = async (name, _format, relativeTo) =>
  VhdImage.open(await fileSource(resolve(dirname(relativeTo), name), true));

describe.skipIf(!hasQemu)("VHD images made by qemu", () => {
  for (const sub of ["fixed", "dynamic"]) {
    for (const force of ["off", "on"]) {
      it(`subformat=${sub} force_size=${force}: same size and bytes as qemu-img`, async () => {
        const dir = tempDir();
        const f = join(dir, "q.vhd");
        qemuImg("create", "-q", "-f", "vpc", "-o", `subformat=${sub},force_size=${force}`, f, "5000000");
        qemuIo(f, "vpc", "write -P 0x5a 1000k 300k", "write -P 0x11 4000k 2k", "write -z 1100k 4k");
        qemuImg("convert", "-f", "vpc", "-O", "raw", f, join(dir, "q.raw"));
        const img = await VhdImage.open(await fileSource(f, true));
        const { "actual-size": _, ...expectedInfo } = qemuInfo(f, "vpc");
        expect(await img.info()).toEqual(expectedInfo);
        expect(Buffer.compare(await readAll(img), readFileSync(join(dir, "q.raw")))).toBe(0);
        if (sub === "dynamic") {
          const map = JSON.parse(qemuImg("map", "-f", "vpc", "--output=json", f)) as {
            start: number;
            length: number;
            data: boolean;
          }[];
          const ours = await img.blockStatus(0, img.size);
          expect(ours.map((e) => [e.start, e.length, e.data])).toEqual(
            map.map((e) => [e.start, e.length, e.data]),
          );
        }
        await img.close();
      });
    }
  }

  // qemu trusts CHS geometry for creator "vpc " and "qemu" unless it is the maximum, Current Size otherwise.
  for (const creator of ["vpc ", "qemu", "qem2", "win ", "d2v "]) {
    it(`virtual size of a dynamic image by creator '${creator}' matches qemu-img info`, async () => {
      const f = join(tempDir(), "c.vhd");
      qemuImg("create", "-q", "-f", "vpc", f, "7M");
      const b = readFileSync(f);
      const end = b.length - 512;
      for (const at of [0, end]) {
        b.write(creator, at + 28, "latin1");
        b.writeUInt32BE(0, at + 48);
        b.writeUInt32BE(6 * MiB + 4096, at + 52); // Current Size disagrees with the geometry
        fixChecksum(b, at, 512, 64);
      }
      writeFileSync(f, b);
      const img = await VhdImage.open(await fileSource(f, true));
      expect(img.size).toBe(qemuInfo(f, "vpc")["virtual-size"]);
      await img.close();
    });
  }
});

describe.skipIf(!hasQemu)("VHD images we create, judged by qemu-img", () => {
  for (const sub of ["fixed", "dynamic"]) {
    for (const force of ["off", "on"]) {
      it(`create subformat=${sub} force_size=${force}: qemu-img agrees on size and content`, async () => {
        const dir = tempDir();
        const f = join(dir, "ours.vhd");
        const img = await VhdImage.create(await newFileSource(f), {
          size: 5_000_000,
          options: { subformat: sub, force_size: force },
        });
        const q = join(dir, "q.vhd");
        qemuImg("create", "-q", "-f", "vpc", "-o", `subformat=${sub},force_size=${force}`, q, "5000000");
        expect(img.size).toBe(qemuInfo(q, "vpc")["virtual-size"]);
        const expected = new Uint8Array(img.size);
        const writes: [number, number][] = [
          [1, 1000],
          [2 * MiB - 3, 10],
          [3 * MiB + 12345, img.size - 3 * MiB - 12345],
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
        expect(qemuInfo(f, "vpc")["virtual-size"]).toBe(img.size);
        expect(qemuImgStatus("compare", "-f", "vpc", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
      });
    }
  }

  it("concurrent writes allocate without clobbering each other (qemu-img compare)", async () => {
    const dir = tempDir();
    const f = join(dir, "c.vhd");
    const img = await VhdImage.create(await newFileSource(f), {
      size: 48 * MiB,
      options: { force_size: "on" },
    });
    const expected = await concurrentWrites(img);
    await img.close();
    writeFileSync(join(dir, "exp.raw"), expected);
    expect(qemuImgStatus("compare", "-f", "vpc", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
  });

  it("writes into a dynamic image qemu made and qemu reads it back", async () => {
    const dir = tempDir();
    const f = join(dir, "q.vhd");
    qemuImg("create", "-q", "-f", "vpc", f, "8M");
    qemuIo(f, "vpc", "write -P 0x77 0 3M");
    const img = await VhdImage.open(await fileSource(f));
    await img.write(MiB + 100, pattern(4 * MiB, 9));
    const expected = new Uint8Array(img.size);
    expected.fill(0x77, 0, 3 * MiB);
    expected.set(pattern(4 * MiB, 9), MiB + 100);
    await img.close();
    writeFileSync(join(dir, "exp.raw"), expected);
    expect(qemuImgStatus("compare", "-f", "vpc", "-F", "raw", f, join(dir, "exp.raw")).status).toBe(0);
  });

  it("differencing disk: reads parent where unwritten, own data where written", async () => {
    const dir = tempDir();
    const parentFile = join(dir, "parent.vhd");
    qemuImg("create", "-q", "-f", "vpc", parentFile, "6M");
    qemuIo(parentFile, "vpc", "write -P 0x33 0 6M");
    const childFile = join(dir, "child.vhd");
    const child = await VhdImage.create(await newFileSource(childFile), {
      backingFile: "parent.vhd",
      openBacking,
    });
    const expected = new Uint8Array(child.size).fill(0x33, 0, 6 * MiB);
    const writes: [number, number][] = [
      [100, 10],
      [MiB + 511, 2],
      [2 * MiB + 4096, 8192],
    ];
    for (const [i, [off, len]] of writes.entries()) {
      const data = pattern(len, i + 7);
      await child.write(off, data);
      expected.set(data, off);
    }
    expect(Buffer.compare(await readAll(child), expected)).toBe(0);
    await child.close();
    const reopened = await VhdImage.open(await fileSource(childFile, true), { openBacking });
    expect(reopened.backingFilename).toBe("parent.vhd");
    expect(Buffer.compare(await readAll(reopened), expected)).toBe(0);
    const map = await reopened.blockStatus(0, reopened.size);
    expect(map.filter((e) => e.data).map((e) => [e.start, e.length])).toEqual([
      [0, 512],
      [MiB, 1024],
      [2 * MiB + 4096, 8192],
    ]);
    expect((await reopened.info())["backing-filename"]).toBe("parent.vhd");
    await reopened.close();
    // Footer and dynamic header (checksums, layout) are accepted by qemu.
    expect(qemuInfo(childFile, "vpc")["virtual-size"]).toBe(reopened.size);
    // qemu has no differencing support: it reads the child alone, as a dynamic disk, which
    // must match our view of the child without its parent (BAT, bitmap size, data offsets).
    qemuImg("convert", "-f", "vpc", "-O", "raw", childFile, join(dir, "child.raw"));
    const alone = await VhdImage.open(await fileSource(childFile, true), { noBacking: true });
    expect(Buffer.compare(await readAll(alone), readFileSync(join(dir, "child.raw")))).toBe(0);
    await alone.close();
  });

  it("differencing disk: new blocks never land on parent locator data placed after the BAT", async () => {
    const dir = tempDir();
    qemuImg("create", "-q", "-f", "vpc", join(dir, "parent.vhd"), "4M");
    const childFile = join(dir, "child.vhd");
    const child = await VhdImage.create(await newFileSource(childFile), {
      backingFile: "parent.vhd",
      openBacking,
    });
    await child.close();
    // Move the first locator's data (W2ru) to where the footer is, and the footer behind it.
    const b = readFileSync(childFile);
    const entry = 512 + 576;
    const oldOffset = Number(b.readBigUInt64BE(entry + 16));
    const length = b.readUInt32BE(entry + 8);
    const footerAt = b.length - 512;
    const moved = Buffer.concat([b.subarray(0, footerAt), Buffer.alloc(512), b.subarray(footerAt)]);
    b.copy(moved, footerAt, oldOffset, oldOffset + length);
    moved.writeBigUInt64BE(BigInt(footerAt), entry + 16);
    fixChecksum(moved, 512, 1024, 36);
    writeFileSync(childFile, moved);
    const locator = Buffer.from(moved.subarray(footerAt, footerAt + length));
    const img = await VhdImage.open(await fileSource(childFile), { openBacking });
    await img.write(0, pattern(4096, 1));
    await img.close();
    const after = readFileSync(childFile);
    expect(Buffer.compare(after.subarray(footerAt, footerAt + length), locator)).toBe(0);
    const reopened = await VhdImage.open(await fileSource(childFile, true), { openBacking });
    const back = new Uint8Array(4096);
    await reopened.read(0, back);
    expect(back).toEqual(pattern(4096, 1));
    await reopened.close();
  });

  it("differencing disk refuses a parent with another unique ID", async () => {
    const dir = tempDir();
    qemuImg("create", "-q", "-f", "vpc", join(dir, "parent.vhd"), "2M");
    const child = await VhdImage.create(await newFileSource(join(dir, "child.vhd")), {
      backingFile: "parent.vhd",
      openBacking,
    });
    await child.close();
    qemuImg("create", "-q", "-f", "vpc", join(dir, "parent.vhd"), "2M");
    await expect(
      VhdImage.open(await fileSource(join(dir, "child.vhd"), true), { openBacking }),
    ).rejects.toBeInstanceOf(CorruptDataError);
  });
});

async function dynamicBytes(): Promise<Buffer> {
  const f = join(tempDir(), "base.vhd");
  const img = await VhdImage.create(await newFileSource(f), { size: 6 * MiB });
  await img.write(2 * MiB, pattern(4096, 3));
  await img.close();
  return readFileSync(f);
}

async function openBytes(bytes: Uint8Array): Promise<VhdImage> {
  const f = join(tempDir(), "x.vhd");
  writeFileSync(f, bytes);
  return VhdImage.open(await fileSource(f, true), { noBacking: true });
}

describe("corrupt VHD images", () => {
  const cases: [string, (b: Buffer) => void, ErrorClass][] = [
    ["footer checksum", (b) => (b[b.length - 512 + 100] ^= 1), CorruptDataError],
    ["dynamic header checksum", (b) => (b[512 + 40] ^= 1), CorruptDataError],
    [
      "no footer anywhere",
      (b) => {
        b.fill(0, 0, 8);
        b.fill(0, b.length - 512);
      },
      CorruptDataError,
    ],
    [
      "unknown disk type",
      (b) => {
        b.writeUInt32BE(9, b.length - 512 + 60);
        fixChecksum(b, b.length - 512, 512, 64);
      },
      UnsupportedError,
    ],
    [
      "absurd block size",
      (b) => {
        b.writeUInt32BE(0x80000000, 512 + 32);
        fixChecksum(b, 512, 1024, 36);
      },
      CorruptDataError,
    ],
    [
      "table past end of file",
      (b) => {
        b.writeUInt32BE(0x10000000, 512 + 28);
        fixChecksum(b, 512, 1024, 36);
      },
      CorruptDataError,
    ],
    ["block past end of file", (b) => b.writeUInt32BE(0x7fffff, 1536 + 4), CorruptDataError],
    [
      "size beyond the table",
      (b) => {
        const at = b.length - 512;
        b.writeUInt32BE(0x100, at + 48);
        b.write("win ", at + 28, "latin1");
        fixChecksum(b, at, 512, 64);
      },
      CorruptDataError,
    ],
  ];
  for (const [name, mutate, cls] of cases) {
    it(`${name} -> ${cls.name}`, async () => {
      const b = await dynamicBytes();
      mutate(b);
      await expect(openBytes(b)).rejects.toBeInstanceOf(cls);
    });
  }

  it("a lost end footer falls back to the copy at offset 0", async () => {
    const b = await dynamicBytes();
    b.fill(0, b.length - 512);
    const img = await openBytes(b);
    const d = new Uint8Array(4096);
    await img.read(2 * MiB, d);
    expect(d).toEqual(pattern(4096, 3));
    await img.close();
  });

  it("random header mutations (with fixed checksums) give a typed error or an image that reads", async () => {
    const base = await dynamicBytes();
    const count = process.env.BACKPLANE_LONG ? 2000 : 60;
    let x = 4242;
    for (let i = 0; i < count; i++) {
      const b = Buffer.from(base);
      for (let k = 0; k < 3; k++) {
        x = (x * 1103515245 + 12345) >>> 0;
        const pos = x % 2048; // footer copy, dynamic header, BAT
        b[pos] = x >>> 24;
      }
      fixChecksum(b, 0, 512, 64);
      b.copy(b, b.length - 512, 0, 512);
      if (x & 1) fixChecksum(b, 512, 1024, 36);
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

describe("vpcFormat", () => {
  it("probes dynamic images by the footer copy and answers to vhd", async () => {
    const b = await dynamicBytes();
    expect(vpcFormat.probe(b.subarray(0, 512), b.length)).toBe(100);
    expect(vpcFormat.probe(new Uint8Array(512), 512)).toBe(0);
    expect(vpcFormat.aliases).toContain("vhd");
  });
});

describe("golden fixtures (made by fixtures/make-fixtures.sh; no qemu needed)", () => {
  const dir = fileURLToPath(new URL("../fixtures", import.meta.url));
  for (const f of fixtures(dir)) {
    it(`${f.file} (${f.options || "defaults"}): virtual size and content as qemu-img reported`, async () => {
      const img = await vpcFormat.open(fixtureSource(dir, f), { readOnly: true });
      expect(img.size).toBe(f["virtual-size"]);
      expect(await contentSha256(img)).toBe(f["raw-sha256"]);
      await img.close();
    });
  }
});
