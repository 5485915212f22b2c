/**
 * qemu-img and qemu-io judge `backplane img` and the format drivers, for every
 * registered format (drivers plug in by name):
 * - qemu writes, we read: our raw read-out is byte-identical to
 *   `qemu-img convert -O raw`; our info and map JSON agree with qemu's;
 * - we write, qemu judges: `qemu-img check` passes and `qemu-img compare`
 *   finds our image equal to the expected contents;
 * - the same seeded random write / write-zeroes / discard sequence applied by
 *   us and by qemu-io to copies of one image gives equal images.
 * BACKPLANE_LONG=1 runs longer sequences with more seeds.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DiskImage } from "@backplane/disk";
import { openDiskFile } from "@backplane/host-node";
import { afterAll, describe, expect, it } from "vitest";
import {
  common,
  FORMATS,
  firstDifference,
  hasFormat,
  img,
  QEMU,
  qemuImg,
  qemuIo,
  rng,
  tempDir,
} from "./img-helpers.js";

const LONG = process.env.BACKPLANE_LONG === "1";
const OPS = LONG ? 400 : 40;
const SEEDS = LONG ? [1, 2, 3, 4, 5, 6, 7, 8] : [1];
const SIZE = 4 << 20;
/** Formats where qemu's discard really deallocates (elsewhere it may be a no-op, so contents would be undefined). */
const DISCARDS = new Set(["raw", "qcow2"]);
/** Formats qemu-img cannot check (exit 63). */
const UNCHECKABLE = new Set(["raw", "vpc"]);

/** Extra `convert` flags per format, each judged by qemu-img. */
const CONVERT_VARIANTS: Record<string, string[][]> = {
  qcow2: [["-c"], ["-o", "cluster_size=4096"], ["-o", "compat=0.10"]],
  vmdk: [
    ["-o", "subformat=monolithicFlat"],
    ["-o", "subformat=streamOptimized"],
  ],
  vpc: [["-o", "subformat=fixed"]],
  vdi: [["-o", "static=on"]],
};

type Op =
  | { kind: "write"; off: number; len: number; pattern: number }
  | { kind: "zero" | "discard"; off: number; len: number };

function randomOps(seed: number, size: number, n: number, discard: boolean): Op[] {
  const next = rng(seed);
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const aligned = next() < 0.5;
    let off = Math.floor(next() * size);
    let len = 1 + Math.floor(next() * 131072);
    if (aligned) {
      off -= off % 512;
      len = Math.max(512, len - (len % 512));
    }
    len = Math.min(len, size - off);
    const r = next();
    if (discard && r < 0.1) {
      const c = 65536;
      const start = off - (off % c);
      ops.push({
        kind: "discard",
        off: start,
        len: Math.min(c * (1 + Math.floor(next() * 3)), size - start),
      });
    } else if (r < 0.25) ops.push({ kind: "zero", off, len });
    else ops.push({ kind: "write", off, len, pattern: 1 + Math.floor(next() * 255) });
  }
  return ops.filter((o) => o.len > 0);
}

function qemuCommands(ops: Op[]): string[] {
  return ops.map((o) =>
    o.kind === "write"
      ? `write -P ${o.pattern} ${o.off} ${o.len}`
      : o.kind === "zero"
        ? `write -z ${o.off} ${o.len}`
        : `discard ${o.off} ${o.len}`,
  );
}

async function applyOps(image: DiskImage, ops: Op[], model?: Uint8Array): Promise<void> {
  for (const o of ops) {
    if (o.kind === "write") await image.write(o.off, new Uint8Array(o.len).fill(o.pattern));
    else if (o.kind === "discard" && image.discard) await image.discard(o.off, o.len);
    else if (image.writeZeroes) await image.writeZeroes(o.off, o.len);
    else await image.write(o.off, new Uint8Array(o.len));
    if (model) model.fill(o.kind === "write" ? o.pattern : 0, o.off, o.off + o.len);
  }
}

function virtualSize(path: string, format: string): number {
  return JSON.parse(qemuImg("info", "-f", format, "--output=json", path).stdout)["virtual-size"];
}

const { dir, cleanup } = tempDir();
afterAll(cleanup, 60_000);

describe.skipIf(!QEMU).each(FORMATS.filter(hasFormat))("%s judged by qemu", (format) => {
  const canDiscard = DISCARDS.has(format);

  it.each(SEEDS)("qemu writes, we read (seed %i)", async (seed) => {
    const path = join(dir, `qw-${seed}.${format}`);
    expect(qemuImg("create", "-q", "-f", format, path, String(SIZE)).code).toBe(0);
    qemuIo(format, path, qemuCommands(randomOps(seed, virtualSize(path, format), OPS, canDiscard)));

    const ours = join(dir, `qw-${seed}.ours.raw`);
    const theirs = join(dir, `qw-${seed}.theirs.raw`);
    expect(await img("convert", "-f", format, "-O", "raw", path, ours)).toMatchObject({ code: 0 });
    expect(qemuImg("convert", "-f", format, "-O", "raw", path, theirs).code).toBe(0);
    expect(firstDifference(readFileSync(ours), readFileSync(theirs))).toBe(-1);

    const info = await img("info", "-f", format, "--output=json", path);
    const [a, b] = common(
      JSON.parse(info.stdout),
      JSON.parse(qemuImg("info", "-f", format, "--output=json", path).stdout),
    );
    delete a["actual-size"];
    delete b["actual-size"];
    expect(a).toEqual(b);

    const human = (text: string) => text.replace(/^disk size: .*$/m, "");
    expect(human((await img("info", "-f", format, path)).stdout)).toBe(
      human(qemuImg("info", "-f", format, path).stdout),
    );

    if (format !== "raw") {
      const map = await img("map", "-f", format, "--output=json", path);
      expect(JSON.parse(map.stdout)).toEqual(
        JSON.parse(qemuImg("map", "-f", format, "--output=json", path).stdout),
      );
      expect((await img("map", "-f", format, path)).stdout).toBe(qemuImg("map", "-f", format, path).stdout);
    }
  });

  it.each(SEEDS)("we write, qemu judges (seed %i)", async (seed) => {
    const path = join(dir, `ww-${seed}.${format}`);
    expect(await img("create", "-q", "-f", format, path, String(SIZE))).toMatchObject({
      code: 0,
      stderr: "",
    });
    const image = await openDiskFile(path, { format });
    const model = new Uint8Array(image.size);
    await applyOps(image, randomOps(seed + 100, image.size, OPS, canDiscard), model);
    await image.close();
    expect(virtualSize(path, format)).toBe(model.length);
    const check = qemuImg("check", "-f", format, path);
    expect(check.code, check.stdout + check.stderr).toBe(UNCHECKABLE.has(format) ? 63 : 0);
    const expected = join(dir, `ww-${seed}.expected.raw`);
    writeFileSync(expected, model);
    const cmp = qemuImg("compare", "-f", format, "-F", "raw", path, expected);
    expect(cmp.code, cmp.stdout + cmp.stderr).toBe(0);
  });

  it.each(SEEDS)(
    "the same random sequence by us and by qemu-io gives equal images (seed %i)",
    async (seed) => {
      const base = join(dir, `same-${seed}.${format}`);
      expect(qemuImg("create", "-q", "-f", format, base, String(SIZE)).code).toBe(0);
      qemuIo(format, base, ["write -P 0x77 0 1M", "write -P 0x99 3M 512k"]);
      const byQemu = join(dir, `same-${seed}.qemu.${format}`);
      const byUs = join(dir, `same-${seed}.us.${format}`);
      copyFileSync(base, byQemu);
      copyFileSync(base, byUs);
      const ops = randomOps(seed + 200, virtualSize(base, format), OPS, canDiscard);
      qemuIo(format, byQemu, qemuCommands(ops));
      const image = await openDiskFile(byUs, { format });
      await applyOps(image, ops);
      await image.close();
      const cmp = qemuImg("compare", "-f", format, "-F", format, byQemu, byUs);
      expect(cmp.code, cmp.stdout + cmp.stderr).toBe(0);
      expect((await img("compare", "-f", format, "-F", format, byQemu, byUs)).code).toBe(0);
      expect(qemuImg("check", "-f", format, byUs).code).toBe(UNCHECKABLE.has(format) ? 63 : 0);
    },
  );

  it("offsets beyond 4 GiB: qemu's writes read back, ours verify in qemu-io", async () => {
    const path = join(dir, `big.${format}`);
    expect(qemuImg("create", "-q", "-f", format, path, "6G").code).toBe(0);
    const far = 5 * 2 ** 30 + 512;
    qemuIo(format, path, [`write -P 0x42 ${far} 65536`]);
    const image = await openDiskFile(path, { format });
    const back = new Uint8Array(65536 + 1024);
    await image.read(far - 512, back);
    expect(back.subarray(0, 512).every((b) => b === 0)).toBe(true);
    expect(back.subarray(512, 512 + 65536).every((b) => b === 0x42)).toBe(true);
    expect(back.subarray(512 + 65536).every((b) => b === 0)).toBe(true);
    const ours = 4 * 2 ** 30 + 100;
    await image.write(ours, new Uint8Array(3000).fill(0x43));
    await image.close();
    // qemu-io exits non-zero when a pattern check fails.
    expect(() =>
      qemuIo(format, path, [
        `read -P 0x43 ${ours} 3000`,
        `read -P 0x42 ${far} 65536`,
        `read -P 0 ${ours + 3000} 512`,
      ]),
    ).not.toThrow();
    expect(qemuImg("check", "-f", format, path).code).toBe(UNCHECKABLE.has(format) ? 63 : 0);
  });

  it("our convert to this format from qemu's raw image is equal and clean", async () => {
    const src = join(dir, `conv-src-${format}.raw`);
    expect(qemuImg("create", "-q", "-f", "raw", src, String(SIZE)).code).toBe(0);
    qemuIo("raw", src, qemuCommands(randomOps(9, SIZE, OPS, false)));
    const variants: string[][] = [[], ...(CONVERT_VARIANTS[format] ?? [])];
    for (const flags of variants) {
      const out = join(dir, `conv-out-${format}-${variants.indexOf(flags)}.${format}`);
      const r = await img("convert", "-f", "raw", "-O", format, ...flags, src, out);
      expect(r, flags.join(" ")).toMatchObject({ code: 0, stderr: "" });
      expect(qemuImg("compare", "-f", "raw", "-F", format, src, out).code, flags.join(" ")).toBe(0);
      expect(qemuImg("check", "-f", format, out).code).toBe(UNCHECKABLE.has(format) ? 63 : 0);
    }
  });
});

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

describe.skipIf(!QEMU)("convert between every pair of formats", () => {
  const formats = FORMATS.filter(hasFormat);
  const pairs = formats.flatMap((a) => formats.map((b) => [a, b] as const));
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
