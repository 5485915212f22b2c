/**
 * Corrupt and hostile images give typed errors (CorruptDataError,
 * UnsupportedError, ...) without unbounded work or allocation: hand-made
 * cases for each header field and table, then seeded random mutations
 * (many more with BACKPLANE_LONG=1).
 */
import { BackplaneError, CorruptDataError, UnsupportedError } from "@backplane/core";
import { MemoryByteSource } from "@backplane/disk";
import { beforeAll, describe, expect, it } from "vitest";
import { Qcow2Image, qcow2 } from "../src/index.js";
import { rng } from "./helpers.js";

const LONG = process.env.BACKPLANE_LONG === "1";
let golden: Uint8Array;

beforeAll(async () => {
  const src = new MemoryByteSource("golden");
  const img = (await qcow2.create(src, { size: 1 << 20, options: { cluster_size: "4096" } })) as Qcow2Image;
  for (let i = 0; i < 20; i++) await img.write(i * 50_000, new Uint8Array(3000).fill(i + 1));
  await img.createSnapshot("snap");
  await img.write(0, new Uint8Array(10_000).fill(0xaa));
  await img.close();
  golden = src.bytes().slice();
});

const u32 = (b: Uint8Array, o: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(o, v);
const u64 = (b: Uint8Array, o: number, v: bigint) => new DataView(b.buffer, b.byteOffset).setBigUint64(o, v);
const r64 = (b: Uint8Array, o: number) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(o));

/** Opens a patched copy of the golden image, reads some of it and checks it. */
async function exercise(patch: (b: Uint8Array) => void): Promise<void> {
  const bytes = golden.slice();
  patch(bytes);
  const img = await Qcow2Image.open(new MemoryByteSource("bad", bytes, { readOnly: true }), {
    noBacking: true,
  });
  const buf = new Uint8Array(Math.min(img.size, 1 << 20));
  await img.read(0, buf);
  await img.blockStatus(0, buf.length);
  await img.check();
  await img.listSnapshots();
}

describe("corrupt headers and tables", () => {
  const cases: [string, (b: Uint8Array) => void, new (message: string) => BackplaneError, RegExp?][] = [
    ["bad magic", (b) => u32(b, 0, 0x12345678), CorruptDataError],
    ["version 4", (b) => u32(b, 4, 4), UnsupportedError, /version 4/],
    ["cluster_bits 8", (b) => u32(b, 20, 8), CorruptDataError],
    ["cluster_bits 40", (b) => u32(b, 20, 40), CorruptDataError],
    ["encryption", (b) => u32(b, 32, 1), UnsupportedError],
    ["huge l1_size", (b) => u32(b, 36, 0xffff_ffff), UnsupportedError],
    ["L1 table past the end of the file", (b) => u64(b, 40, 1n << 40n), CorruptDataError],
    ["L1 table unaligned", (b) => u64(b, 40, 4096n + 8n), CorruptDataError],
    ["size beyond 2^53", (b) => u64(b, 24, 1n << 62n), CorruptDataError],
    ["size larger than the L1 table maps", (b) => u64(b, 24, 1n << 40n), CorruptDataError],
    ["refcount table past the end", (b) => u32(b, 56, 100_000), CorruptDataError],
    ["refcount table over the L1 table", (b) => u64(b, 48, BigInt(r64(b, 40))), CorruptDataError],
    ["refcount_order 7", (b) => u32(b, 96, 7), CorruptDataError],
    ["too many snapshots", (b) => u32(b, 60, 1 << 24), CorruptDataError],
    ["snapshot table past the end", (b) => u64(b, 64, 1n << 40n), CorruptDataError],
    ["header_length too small", (b) => u32(b, 100, 50), CorruptDataError],
    [
      "backing name too long",
      (b) => {
        u64(b, 8, 200n);
        u32(b, 16, 5000);
      },
      CorruptDataError,
    ],
    ["external data file", (b) => u64(b, 72, 4n), UnsupportedError, /external data file/],
    [
      "L2 table past the end of the file",
      (b) => {
        const l1 = r64(b, 40);
        u64(b, l1, (1n << 63n) | (1n << 40n));
      },
      CorruptDataError,
    ],
    [
      "L2 table unaligned",
      (b) => {
        const l1 = r64(b, 40);
        u64(b, l1, BigInt(r64(b, l1) & 0xff_ffff_ffff_fe00) + 512n);
      },
      CorruptDataError,
    ],
  ];
  for (const [name, patch, type, message] of cases) {
    it(name, async () => {
      const err = await exercise(patch).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(type);
      if (message) expect(String((err as Error).message)).toMatch(message);
    });
  }

  it("an image marked corrupt opens read-only but not for writing", async () => {
    const bytes = golden.slice();
    u64(bytes, 72, 2n);
    const ro = await Qcow2Image.open(new MemoryByteSource("c", bytes.slice(), { readOnly: true }));
    expect((await ro.info())["format-specific"]?.data.corrupt).toBe(true);
    await expect(Qcow2Image.open(new MemoryByteSource("c", bytes))).rejects.toBeInstanceOf(CorruptDataError);
  });

  it("unknown incompatible feature bits are named, with the image's feature name table", async () => {
    const err = await exercise((b) => {
      u64(b, 72, (1n << 5n) | (1n << 40n));
      // Rename the table's first entry (type 0, bit 0) to describe bit 5.
      const len = new DataView(b.buffer).getUint32(112 + 4);
      expect(new DataView(b.buffer).getUint32(112)).toBe(0x6803f857);
      expect(len % 48).toBe(0);
      b[120 + 1] = 5;
      b.set(new TextEncoder().encode("frobnication\0"), 120 + 2);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(String((err as Error).message)).toMatch(/bit 5 \(frobnication\), bit 40/);
  });

  it("a refcount block of the wrong width or zeroed table is reported, not thrown as a RangeError", async () => {
    const err = await exercise((b) => {
      const table = r64(b, 48);
      u64(b, table, 0n);
    }).catch((e: unknown) => e);
    expect(err).toBeUndefined(); // readable; check reports the corruption instead
    const bytes = golden.slice();
    u64(bytes, r64(bytes, 48), 0n);
    const img = await Qcow2Image.open(new MemoryByteSource("bad", bytes, { readOnly: true }));
    expect((await img.check()).corruptions).toBeGreaterThan(0);
  });

  it(`random mutations give only typed errors (${LONG ? 5000 : 300} cases)`, async () => {
    const r = rng(99);
    const l1 = r64(golden, 40);
    const reftable = r64(golden, 48);
    const snaps = r64(golden, 64);
    const regions = [
      [0, 512],
      [l1, 64],
      [reftable, 64],
      [snaps, 128],
    ];
    for (let i = 0; i < (LONG ? 5000 : 300); i++) {
      const err = await exercise((b) => {
        const count = 1 + Math.floor(r() * 4);
        for (let k = 0; k < count; k++) {
          const [start, len] = regions[Math.floor(r() * regions.length)];
          const at = start + Math.floor(r() * len);
          b[at] = r() < 0.5 ? Math.floor(r() * 256) : b[at] ^ (1 << Math.floor(r() * 8));
        }
      }).catch((e: unknown) => e);
      if (err !== undefined && !(err instanceof BackplaneError)) throw err;
    }
  });
});
