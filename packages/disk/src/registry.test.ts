import { InvalidArgumentError, NotFoundError, UnsupportedError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { chainBlockStatus, chainOpener, mergeExtents } from "./chain.js";
import { BackingChainError } from "./errors.js";
import { MemoryByteSource } from "./memory-source.js";
import { FormatRegistry } from "./registry.js";
import type { ByteSource, DiskFormat, DiskImage, MapExtent } from "./types.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A test format: "CHN\n<backing name>\n", no data. Enough to exercise probing,
 * aliases and backing-chain opening.
 */
function chainFormat(name = "chn"): DiskFormat {
  return {
    name,
    aliases: ["chain"],
    probe: (h) => (dec.decode(h.subarray(0, 4)) === "CHN\n" ? 100 : 0),
    async open(source, options = {}) {
      const buf = new Uint8Array(await source.size());
      await source.read(0, buf);
      const ref = dec.decode(buf).split("\n")[1];
      const backing =
        ref && !options.noBacking ? await options.openBacking?.(ref, undefined, source.name) : undefined;
      return fakeImage(name, source, 0, [], backing);
    },
    async create(source) {
      await source.write(0, enc.encode("CHN\n\n"));
      return this.open(source);
    },
  };
}

const rawish: DiskFormat = {
  name: "rawish",
  probe: () => 1,
  async open(source) {
    return fakeImage("rawish", source, await source.size(), []);
  },
  create: () => Promise.reject(new Error("unused")),
};

function fakeImage(
  format: string,
  source: ByteSource,
  size: number,
  extents: MapExtent[],
  backing?: DiskImage,
): DiskImage {
  return {
    format,
    source,
    backing,
    size,
    readOnly: true,
    blockSize: 512,
    read: async () => {},
    write: async () => {},
    flush: async () => {},
    close: async () => {
      await backing?.close();
      await source.close();
    },
    info: async () => ({ filename: source.name, format, "virtual-size": size }),
    blockStatus: async (offset, length) =>
      extents
        .filter((e) => e.start < offset + length && e.start + e.length > offset)
        .map((e) => {
          const start = Math.max(e.start, offset);
          const end = Math.min(e.start + e.length, offset + length);
          const shifted = e.offset === undefined ? {} : { offset: e.offset + start - e.start };
          return { ...e, ...shifted, start, length: end - start };
        }),
  };
}

describe("FormatRegistry", () => {
  it("probes the highest score and falls back to raw only when nothing else matches", async () => {
    const reg = new FormatRegistry();
    reg.register(rawish);
    reg.register(chainFormat());
    expect((await reg.probe(new MemoryByteSource("a", enc.encode("CHN\n\n")))).name).toBe("chn");
    expect((await reg.probe(new MemoryByteSource("b", enc.encode("hello")))).name).toBe("rawish");
  });

  it("finds drivers by alias and reports unknown names and unprobeable files with typed errors", async () => {
    const reg = new FormatRegistry();
    const f = chainFormat();
    reg.register(f);
    reg.register(f);
    expect(reg.get("chain")).toBe(f);
    expect(() => reg.get("qcow9")).toThrow(InvalidArgumentError);
    expect(() => reg.register(chainFormat())).toThrow(InvalidArgumentError);
    await expect(reg.probe(new MemoryByteSource("x", enc.encode("zz")))).rejects.toBeInstanceOf(
      UnsupportedError,
    );
  });
});

describe("chainOpener", () => {
  function setup(files: Record<string, string>) {
    const reg = new FormatRegistry();
    reg.register(chainFormat());
    let opened = 0;
    let closed = 0;
    const resolve = async (name: string) => {
      const text = files[name];
      if (text === undefined) throw new NotFoundError(`Could not open '${name}': No such file or directory`);
      opened++;
      const src = new MemoryByteSource(name, enc.encode(text));
      src.close = async () => {
        closed++;
      };
      return { source: src, key: name };
    };
    const open = (name: string, maxDepth?: number) =>
      reg.open(new MemoryByteSource(name, enc.encode(files[name])), {
        openBacking: chainOpener(resolve, { registry: reg, chain: [name], maxDepth }),
      });
    return { open, counts: () => ({ opened, closed }) };
  }

  it("opens a chain and reports loops with BackingChainError, closing what it opened", async () => {
    const ok = setup({ top: "CHN\nmid", mid: "CHN\nbase", base: "CHN\n" });
    const img = await ok.open("top");
    expect(img.backing?.source.name).toBe("mid");
    expect(img.backing?.backing?.source.name).toBe("base");

    const loop = setup({ a: "CHN\nb", b: "CHN\nc", c: "CHN\na" });
    await expect(loop.open("a")).rejects.toBeInstanceOf(BackingChainError);
    expect(loop.counts().opened).toBe(loop.counts().closed);
    const self = setup({ s: "CHN\ns" });
    await expect(self.open("s")).rejects.toThrow(/loop/);
  });

  it("opens only the direct backing image writable when asked", async () => {
    const reg = new FormatRegistry();
    reg.register(chainFormat());
    const files: Record<string, string> = { top: "CHN\nmid", mid: "CHN\nbase", base: "CHN\n" };
    const modes: Record<string, boolean> = {};
    const resolve = async (name: string, _rel: string, readOnly: boolean) => {
      modes[name] = readOnly;
      return { source: new MemoryByteSource(name, enc.encode(files[name]), { readOnly }), key: name };
    };
    await reg.open(new MemoryByteSource("top", enc.encode(files.top)), {
      openBacking: chainOpener(resolve, { registry: reg, chain: ["top"], writable: true }),
    });
    expect(modes).toEqual({ mid: false, base: true });
  });

  it("says which backing file is missing", async () => {
    await expect(setup({ top: "CHN\ngone" }).open("top")).rejects.toThrow(
      "Could not open backing file: Could not open 'gone': No such file or directory",
    );
  });

  it("enforces the depth limit", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`f${i}`] = `CHN\n${i < 9 ? `f${i + 1}` : ""}`;
    await expect(setup(files).open("f0", 9)).resolves.toBeDefined();
    await expect(setup(files).open("f0", 8)).rejects.toThrow(/deeper than 8/);
  });
});

describe("chainBlockStatus", () => {
  it("resolves unallocated ranges in the backing image and zero-fills past a shorter backing", async () => {
    const src = new MemoryByteSource();
    const base = fakeImage("t", src, 2048, [
      { start: 0, length: 1024, depth: 0, data: true, zero: false, offset: 0 },
      { start: 1024, length: 1024, depth: 0, data: false, zero: false },
    ]);
    const top = fakeImage(
      "t",
      src,
      4096,
      [
        { start: 0, length: 512, depth: 0, present: true, data: true, zero: false, offset: 4096 },
        { start: 512, length: 3584, depth: 0, data: false, zero: false },
      ],
      base,
    );
    expect(await chainBlockStatus(top, 0, 4096)).toEqual([
      { start: 0, length: 512, depth: 0, present: true, data: true, zero: false, offset: 4096 },
      { start: 512, length: 512, depth: 1, present: true, data: true, zero: false, offset: 512 },
      { start: 1024, length: 3072, depth: 1, present: false, data: false, zero: true },
    ]);
  });

  it("merges only runs whose host offsets are contiguous", () => {
    const e = (start: number, offset: number): MapExtent => ({
      start,
      length: 10,
      depth: 0,
      data: true,
      zero: false,
      offset,
    });
    expect(mergeExtents([e(0, 100), e(10, 110), e(20, 500)])).toEqual([
      { ...e(0, 100), length: 20 },
      e(20, 500),
    ]);
  });
});
