/**
 * Backing chains (qcow2, vmdk) and conversions between formats, judged by
 * qemu-img: info/map of chains, children created by us, commit, convert -n,
 * and convert from each format into the next (every pair with BACKPLANE_LONG=1).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  FORMATS,
  hasFormat,
  img,
  LONG,
  OPS,
  QEMU,
  qemuCommands,
  qemuImg,
  qemuIo,
  randomOps,
  SIZE,
  tempDir,
  UNCHECKABLE,
  virtualSize,
} from "./img-helpers.js";

const { dir, cleanup } = tempDir();
afterAll(cleanup, 60_000);

/** Formats that store a backing file, in qemu and here. */
const CHAIN_FORMATS = ["qcow2", "vmdk"].filter(hasFormat);

describe.skipIf(!QEMU).each(CHAIN_FORMATS)("%s backing chains, next to qemu-img", (format) => {
  const base = join(dir, `h-base.${format}`);
  const top = join(dir, `h-top.${format}`);
  const expected = join(dir, `h-${format}.expected.raw`);
  const prepare = () => {
    qemuImg("create", "-q", "-f", format, base, "4M");
    qemuIo(format, base, ["write -P 0x11 0 1M", "write -P 0x22 2M 64k"]);
    qemuImg("create", "-q", "-f", format, "-b", `h-base.${format}`, "-F", format, top);
    qemuIo(format, top, ["write -P 0x33 512k 128k", "write -z 2M 4k", "write -P 0x44 3M 100"]);
    qemuImg("convert", "-O", "raw", top, expected);
  };

  /** Drops the line that depends on the host file system (allocated blocks). */
  const stable = (text: string) =>
    text.replace(/^disk size: .*$/gm, "disk size: -").replaceAll(`${dir}/`, "");

  it("info (human and --backing-chain JSON) matches qemu-img", async () => {
    prepare();
    const ours = await img("info", top);
    expect(ours.code).toBe(0);
    expect(stable(ours.stdout)).toBe(stable(qemuImg("info", top).stdout));
    const chainJson = await img("info", "--backing-chain", "--output=json", top);
    const strip = (list: Record<string, unknown>[]) => list.map(({ "actual-size": _, ...rest }) => rest);
    expect(strip(JSON.parse(chainJson.stdout.replaceAll(`${dir}/`, "")))).toEqual(
      strip(
        JSON.parse(qemuImg("info", "--backing-chain", "--output=json", top).stdout.replaceAll(`${dir}/`, "")),
      ),
    );
  });

  it("map (human and JSON) of the chain matches qemu-img", async () => {
    prepare();
    const ours = await img("map", top);
    expect(ours.code).toBe(0);
    expect(stable(ours.stdout)).toBe(stable(qemuImg("map", top).stdout));
    expect(JSON.parse((await img("map", "--output=json", top)).stdout)).toEqual(
      JSON.parse(qemuImg("map", "--output=json", top).stdout),
    );
  });

  it("a child made by our create reads through to the backing file like qemu's", async () => {
    prepare();
    const child = join(dir, `h-child.${format}`);
    expect(
      await img("create", "-q", "-f", format, "-b", `h-top.${format}`, "-F", format, child),
    ).toMatchObject({
      code: 0,
    });
    expect(qemuImg("compare", "-F", "raw", child, expected).code).toBe(0);
    expect(qemuImg("check", child).code).toBe(0);
  });

  it("commit puts the chain's contents into the backing file", async () => {
    prepare();
    expect(await img("commit", top)).toMatchObject({ code: 0, stdout: "Image committed.\n" });
    expect(qemuImg("compare", "-F", "raw", base, expected).code).toBe(0);
    expect(qemuImg("check", base).code).toBe(0);
  });

  it("convert -n writes into an existing image, over its old contents", async () => {
    prepare();
    const target = join(dir, `h-target.${format}`);
    qemuImg("create", "-q", "-f", format, target, "4M");
    qemuIo(format, target, ["write -P 0x99 0 4M"]);
    expect(await img("convert", "-n", "-O", format, top, target)).toMatchObject({ code: 0 });
    expect(qemuImg("compare", top, target).code).toBe(0);
    expect(qemuImg("check", target).code).toBe(0);
  });
});

describe.skipIf(!QEMU)("convert between formats", () => {
  const formats = FORMATS.filter(hasFormat);
  // Every pair with BACKPLANE_LONG=1; otherwise each format into the next one (a cycle through all).
  const pairs = formats
    .flatMap((a, i) => formats.map((b, j) => [a, b, j === (i + 1) % formats.length] as const))
    .filter(([, , next]) => LONG || next)
    .map(([a, b]) => [a, b] as const);
  it.each(pairs)("%s -> %s: qemu-img finds the copy equal and clean", async (from, to) => {
    const src = join(dir, `matrix-src.${from}`);
    if (!existsSync(src)) {
      expect(qemuImg("create", "-q", "-f", from, src, String(SIZE)).code).toBe(0);
      qemuIo(from, src, qemuCommands(randomOps(77, virtualSize(src, from), OPS, false)));
    }
    const out = join(dir, `matrix-${from}-to.${to}`);
    expect(await img("convert", "-f", from, "-O", to, src, out)).toMatchObject({ code: 0, stderr: "" });
    const cmp = qemuImg("compare", "-f", from, "-F", to, src, out);
    expect(cmp.code, cmp.stdout + cmp.stderr).toBe(0);
    expect(qemuImg("check", "-f", to, out).code).toBe(UNCHECKABLE.has(to) ? 63 : 0);
  });
});

describe.skipIf(!QEMU || !hasFormat("qcow2")).each(FORMATS.filter(hasFormat))(
  "a qcow2 overlay on a %s base",
  (base) => {
    it("made by our create, reads and converts like qemu-img", async () => {
      const basePath = join(dir, `mixed-base.${base}`);
      const top = join(dir, `mixed-top-${base}.qcow2`);
      qemuImg("create", "-q", "-f", base, basePath, "4M");
      qemuIo(base, basePath, ["write -P 0x21 0 1M", "write -P 0x22 3M 64k"]);
      expect(
        await img("create", "-q", "-f", "qcow2", "-b", `mixed-base.${base}`, "-F", base, top),
      ).toMatchObject({
        code: 0,
      });
      qemuIo("qcow2", top, ["write -P 0x23 512k 4k", "write -z 3M 4k"]);
      const ours = join(dir, `mixed-${base}.ours.raw`);
      const theirs = join(dir, `mixed-${base}.theirs.raw`);
      expect(await img("convert", "-O", "raw", top, ours)).toMatchObject({ code: 0 });
      expect(qemuImg("convert", "-O", "raw", top, theirs).code).toBe(0);
      expect(qemuImg("compare", "-f", "raw", "-F", "raw", ours, theirs).code).toBe(0);
      // The whole chain's map, base included (a raw base's holes come from SEEK_DATA/SEEK_HOLE).
      expect(JSON.parse((await img("map", "--output=json", top)).stdout)).toEqual(
        JSON.parse(qemuImg("map", "--output=json", top).stdout),
      );
    });
  },
);
