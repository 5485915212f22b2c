/**
 * qemu-img and qemu-io judge `backplane img` and the format drivers, for every
 * registered format (drivers plug in by name):
 * - qemu writes, we read: our raw read-out is byte-identical to
 *   `qemu-img convert -O raw`; our info, map and check output (JSON and human)
 *   agree with qemu's;
 * - we write, qemu judges: `qemu-img check` passes, `qemu-img compare` finds
 *   our image equal to the expected contents, qemu's map equals ours;
 * - offsets beyond 4 GiB, and our convert into each format (with subformat
 *   options) judged by qemu-img compare/check;
 * - the same seeded random write / write-zeroes / discard sequence applied by
 *   us and by qemu-io to copies of one image gives equal images.
 * BACKPLANE_LONG=1 runs longer sequences with more seeds.
 */
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDiskFile } from "@backplane/host-node";
import { afterAll, describe, expect, it } from "vitest";
import {
  applyOps,
  common,
  DISCARDS,
  FORMATS,
  firstDifference,
  hasFormat,
  img,
  OPS,
  QEMU,
  qemuCommands,
  qemuImg,
  qemuIo,
  randomOps,
  SEEDS,
  SIZE,
  tempDir,
  UNCHECKABLE,
  virtualSize,
} from "./img-helpers.js";

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

    const theirCheck = qemuImg("check", "-f", format, "--output=json", path);
    const ourCheck = await img("check", "-f", format, "--output=json", path);
    expect(ourCheck.code).toBe(theirCheck.code);
    if (theirCheck.code === 0) expect(JSON.parse(ourCheck.stdout)).toEqual(JSON.parse(theirCheck.stdout));

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
    if (format !== "raw") {
      expect(JSON.parse((await img("map", "-f", format, "--output=json", path)).stdout)).toEqual(
        JSON.parse(qemuImg("map", "-f", format, "--output=json", path).stdout),
      );
    }
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
