/**
 * `backplane img` command-line behaviour next to qemu-img's: exit codes,
 * one-line error messages for bad flags and missing files, size suffixes,
 * progress output, and the qcow2 commands (rebase, resize, snapshot, check,
 * measure) judged by qemu-img. Cases needing qemu skip when it is absent.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasFormat, img, imgCommand, QEMU, qemuImg, qemuIo, tempDir } from "./img-helpers.js";

const { dir, cleanup } = tempDir();
afterAll(cleanup, 60_000);
const raw = join(dir, "a.raw");
const other = join(dir, "b.raw");
writeFileSync(raw, new Uint8Array(65536).fill(1));
writeFileSync(other, new Uint8Array(65536).fill(2));
const missing = join(dir, "missing.img");

/** Error and usage cases: [argv, expected exit code, expected first stderr line after "backplane img: "]. */
const ERRORS: [string[], number, string][] = [
  [["info", "--foo", raw], 1, "unrecognized option '--foo'"],
  [["info", "-z", raw], 1, "unrecognized option '-z'"],
  [["info", "-f"], 1, "missing argument for option '-f'"],
  [["info", "--output"], 1, "missing argument for option '--output'"],
  [["frob"], 1, "Command not found: frob"],
  [["info"], 1, "Expecting one image file name"],
  [["info", missing], 1, `Could not open '${missing}': No such file or directory`],
  [["create", "-f", "raw", join(dir, "x.img"), "1Q"], 1, "Invalid image size specified."],
  [["create", "-f", "raw", join(dir, "x.img"), "1.5"], 1, "Invalid image size specified."],
  [["create", "-f", "raw", join(dir, "x.img"), "-5"], 1, "unrecognized option '-5'"],
  [["create", "-f", "foo", join(dir, "x.img"), "1M"], 1, `${join(dir, "x.img")}: Unknown file format 'foo'`],
  [
    ["create", "-f", "raw", join(dir, "x.img")],
    1,
    `${join(dir, "x.img")}: Image creation needs a size parameter`,
  ],
  [
    ["create", "-f", "raw", "-o", "cluster_size=4k", join(dir, "x.img"), "1M"],
    1,
    `${join(dir, "x.img")}: Invalid parameter 'cluster_size'`,
  ],
  [
    ["create", "-f", "raw", "-u", "-b", raw, "-F", "raw", join(dir, "x.img")],
    1,
    `${join(dir, "x.img")}: Image creation needs a size parameter`,
  ],
  [["map", "--output=xml", raw], 1, "--output must be used with human or json as argument."],
  [["check", "-r", "bogus", raw], 1, "Unknown option value for -r (expecting 'leaks' or 'all'): bogus"],
  [["check", "-f", "raw", raw], 63, "This image format does not support checks"],
  [["convert", "-t", "foo", raw, join(dir, "y.img")], 1, "Invalid cache option: foo"],
  [["convert", "-T", "foo", raw, join(dir, "y.img")], 1, "Invalid source cache option: foo"],
  [["compare", raw], 1, "Expecting two image file names"],
  [["compare", raw, missing], 2, `Could not open '${missing}': No such file or directory`],
  [["convert", "-O", "raw"], 1, "Must specify image file name"],
  [
    ["convert", "-O", "raw", raw, join(dir, "nodir", "out.raw")],
    1,
    `Could not open '${join(dir, "nodir", "out.raw")}': No such file or directory`,
  ],
  [
    ["convert", "-S", "100", "-O", "raw", raw, join(dir, "y.raw")],
    1,
    "Invalid buffer size for sparse output specified.",
  ],
  [["resize"], 1, "Not enough arguments"],
  [["info", "--image-opts", "driver=raw,file.filename=x"], 1, "--image-opts is not supported"],
  [["resize", "-f", "raw", raw, "1K"], 1, "warning: Shrinking an image will delete all data"],
  [["measure"], 1, "Either --size N or one filename must be specified."],
  [["measure", "--size", "1G", raw], 1, "--size N cannot be used together with a filename."],
  [["snapshot", "-l", "-c", "x", raw], 1, "Cannot mix '-l', '-a', '-c', '-d'"],
];

describe("errors and exit codes", () => {
  it.each(ERRORS)("%j exits %i with a clear message", async (argv, code, message) => {
    const r = await img(...argv);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    expect(r.stderr.startsWith(`backplane img: ${message}`), r.stderr).toBe(true);
    expect(statSync(raw).size).toBe(65536);
  });

  it.skipIf(!QEMU).each(ERRORS)("%j: qemu-img exits with the same code", (argv, code) => {
    expect(qemuImg(...argv).code).toBe(code);
  });

  it("compare: 0 identical, 1 different, 2 error, like qemu-img", async () => {
    expect(await img("compare", "-f", "raw", "-F", "raw", raw, raw)).toMatchObject({
      code: 0,
      stdout: "Images are identical.\n",
    });
    expect(await img("compare", "-f", "raw", "-F", "raw", raw, other)).toMatchObject({
      code: 1,
      stdout: "Content mismatch at offset 0!\n",
    });
    if (QEMU) {
      expect(qemuImg("compare", "-f", "raw", "-F", "raw", raw, other).stdout).toBe(
        "Content mismatch at offset 0!\n",
      );
    }
  });

  it("the real process exits with the command's status", () => {
    const run = (...args: string[]) => {
      const [cmd, ...rest] = imgCommand(...args);
      return spawnSync(cmd, rest, { encoding: "utf8" });
    };
    const bad = run("info", "--foo", raw);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe(
      "backplane img: unrecognized option '--foo'\nTry 'backplane img --help' for more information\n",
    );
    expect(run("check", "-f", "raw", raw).status).toBe(63);
  });
});

describe("compare output, next to qemu-img", () => {
  const ones = new Uint8Array(65536).fill(1);
  const files: Record<string, Uint8Array> = {
    a64: ones,
    a128z: Uint8Array.from([...ones, ...new Uint8Array(65536)]),
    a128x: Uint8Array.from([...ones, ...new Uint8Array(1000), 0x78, ...new Uint8Array(64535)]),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  const cases: [string[], number, string][] = [
    [["a64", "a128z"], 0, "Warning: Image size mismatch!\nImages are identical.\n"],
    [["a128z", "a64"], 0, "Warning: Image size mismatch!\nImages are identical.\n"],
    [["a64", "a128x"], 1, "Warning: Image size mismatch!\nContent mismatch at offset 66048!\n"],
    [["-s", "a64", "a128z"], 1, "Strict mode: Image size mismatch!\n"],
  ];
  it.each(cases)("compare %j", async (args, code, stdout) => {
    const argv = [
      "compare",
      "-f",
      "raw",
      "-F",
      "raw",
      ...args.map((a) => (a.startsWith("-") ? a : join(dir, a))),
    ];
    expect(await img(...argv)).toMatchObject({ code, stdout });
    if (QEMU) expect(qemuImg(...argv)).toMatchObject({ code, stdout });
  });
});

describe("create and sizes", () => {
  it.each(["1024", "1k", "1K", "512b", "1.5k", "1M", "1000", "3G"])(
    "size %s gives the same file size as qemu-img",
    async (size) => {
      const ours = join(dir, `size-${size}.ours`);
      expect(await img("create", "-q", "-f", "raw", ours, size)).toMatchObject({ code: 0 });
      if (QEMU) {
        const theirs = join(dir, `size-${size}.theirs`);
        expect(qemuImg("create", "-q", "-f", "raw", theirs, size).code).toBe(0);
        expect(statSync(ours).size).toBe(statSync(theirs).size);
      } else {
        expect(statSync(ours).size % 512).toBe(0);
      }
    },
  );

  it.skipIf(!QEMU || !hasFormat("vpc"))("-f accepts a format alias (vhd for vpc)", async () => {
    const path = join(dir, "alias.vhd");
    expect(await img("create", "-f", "vhd", path, "1M")).toMatchObject({
      code: 0,
      stdout: `Formatting '${path}', fmt=vpc size=1048576\n`,
    });
    expect(JSON.parse(qemuImg("info", "--output=json", path).stdout).format).toBe("vpc");
  });

  it.skipIf(!QEMU || !hasFormat("qcow2"))("-o and -b/-F reach the image as qemu-img reads it", async () => {
    const base = join(dir, "cb.qcow2");
    const top = join(dir, "ct.qcow2");
    expect(await img("create", "-f", "qcow2", "-o", "cluster_size=4096", base, "2M")).toMatchObject({
      code: 0,
    });
    expect(await img("create", "-q", "-f", "qcow2", "-b", "cb.qcow2", "-F", "qcow2", top)).toMatchObject({
      code: 0,
    });
    const info = JSON.parse(qemuImg("info", "--output=json", top).stdout);
    expect(info).toMatchObject({
      "virtual-size": 2 << 20,
      "backing-filename": "cb.qcow2",
      "backing-filename-format": "qcow2",
    });
    expect(JSON.parse(qemuImg("info", "--output=json", base).stdout)["cluster-size"]).toBe(4096);
    const unsafe = join(dir, "unsafe.qcow2");
    expect(
      await img("create", "-q", "-f", "qcow2", "-u", "-b", "gone.qcow2", "-F", "qcow2", unsafe, "1M"),
    ).toMatchObject({
      code: 0,
    });
    expect(JSON.parse(qemuImg("info", "--output=json", unsafe).stdout)["backing-filename"]).toBe(
      "gone.qcow2",
    );
    expect(
      (await img("create", "-q", "-f", "qcow2", "-b", "gone.qcow2", "-F", "qcow2", unsafe, "1M")).code,
    ).toBe(1);
    expect(await img("create", "-f", "qcow2", "-b", "cb.qcow2", join(dir, "nofmt.qcow2"))).toMatchObject({
      code: 1,
    });
  });
});

describe("option syntax and size printing, next to qemu-img", () => {
  it.each([512, 1000, 1024, 1536, 1023 * 1024, 1000 * 1024, 1.5 * 2 ** 20, 2 ** 30 + 512, 3 * 2 ** 40])(
    "virtual size of %i bytes prints like qemu-img",
    async (size) => {
      const path = join(dir, `print-${size}.raw`);
      expect(await img("create", "-q", "-f", "raw", path, String(size))).toMatchObject({ code: 0 });
      const line = (text: string) => text.split("\n").find((l) => l.startsWith("virtual size:"));
      const ours = line((await img("info", "-f", "raw", path)).stdout);
      expect(ours).toMatch(/^virtual size: [\d.]+ [KMGT]?i?B \(\d+ bytes\)$/);
      if (QEMU) expect(ours).toBe(line(qemuImg("info", "-f", "raw", path).stdout));
    },
  );

  it.each([
    ["grouped short options", ["info", "-Uf", "raw", "--output=json"]],
    ["attached value", ["info", "-fraw", "--output", "json"]],
    ["abbreviated long option", ["info", "--out=json", "-f", "raw"]],
    ["options after the operand", ["info", "@FILE", "-f", "raw", "--output=json"]],
  ])("%s parse like qemu-img's getopt", async (_, argv) => {
    const args = argv.includes("@FILE") ? argv.map((a) => (a === "@FILE" ? raw : a)) : [...argv, raw];
    const ours = await img(...args);
    expect(ours.code).toBe(0);
    expect(JSON.parse(ours.stdout)).toMatchObject({ format: "raw", "virtual-size": 65536 });
    if (QEMU) expect(qemuImg(...args).code).toBe(0);
  });
});

describe("map of an empty image", () => {
  it("prints one empty extent, like qemu-img", async () => {
    const path = join(dir, "empty.raw");
    writeFileSync(path, new Uint8Array(0));
    const expected =
      '[{ "start": 0, "length": 0, "depth": 0, "present": false, "zero": false, "data": false}]\n';
    expect(await img("map", "-f", "raw", "--output=json", path)).toMatchObject({ code: 0, stdout: expected });
    if (QEMU) expect(qemuImg("map", "-f", "raw", "--output=json", path).stdout).toBe(expected);
  });
});

describe("convert output", () => {
  it("a failed conversion leaves the existing target file untouched", async () => {
    const target = join(dir, "keep.raw");
    writeFileSync(target, "precious");
    const r = await img("convert", "-c", "-f", "raw", "-O", "raw", raw, target);
    expect(r).toMatchObject({
      code: 1,
      stderr: "backplane img: Compression not supported for this file format\n",
    });
    expect(readFileSync(target, "utf8")).toBe("precious");
    expect(readdirSync(dir).filter((f) => f.startsWith(".backplane-create-"))).toEqual([]);
    if (QEMU && hasFormat("qcow2")) {
      // A source whose L1 table points past the end of the file fails mid-copy.
      const bad = join(dir, "bad-l1.qcow2");
      qemuImg("create", "-q", "-f", "qcow2", bad, "1M");
      qemuIo("qcow2", bad, ["write -P 1 0 64k"]);
      const bytes = new Uint8Array(readFileSync(bad));
      const view = new DataView(bytes.buffer);
      view.setBigUint64(Number(view.getBigUint64(40)), (1n << 63n) | 0x7000000n);
      writeFileSync(bad, bytes);
      expect((await img("convert", "-O", "raw", bad, target)).code).toBe(1);
      expect(readFileSync(target, "utf8")).toBe("precious");
    }
  });

  it("-p draws progress on stderr and keeps stdout clean", async () => {
    const r = await img("convert", "-p", "-f", "raw", "-O", "raw", raw, join(dir, "p.raw"));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("(100.00/100%)");
  });
});

describe.skipIf(!QEMU || !hasFormat("qcow2"))("chain commands judged by qemu-img", () => {
  function chain(name: string): { base: string; top: string; expected: string } {
    const base = join(dir, `${name}-base.qcow2`);
    const top = join(dir, `${name}-top.qcow2`);
    const expected = join(dir, `${name}.expected.raw`);
    qemuImg("create", "-q", "-f", "qcow2", base, "4M");
    qemuIo("qcow2", base, ["write -P 0x11 0 1M", "write -P 0x22 2M 64k"]);
    qemuImg("create", "-q", "-f", "qcow2", "-b", `${name}-base.qcow2`, "-F", "qcow2", top);
    qemuIo("qcow2", top, ["write -P 0x33 512k 128k", "write -z 2M 4k", "write -P 0x44 3M 100"]);
    qemuImg("convert", "-O", "raw", top, expected);
    return { base, top, expected };
  }

  it("rebase keeps the contents (safe) or only the reference (-u)", async () => {
    const { top, expected } = chain("rebase");
    const other = join(dir, "rebase-new.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", other, "4M");
    qemuIo("qcow2", other, ["write -P 0x55 0 256k"]);
    expect(await img("rebase", "-b", "rebase-new.qcow2", "-F", "qcow2", top)).toMatchObject({ code: 0 });
    expect(JSON.parse(qemuImg("info", "--output=json", top).stdout)["backing-filename"]).toBe(
      "rebase-new.qcow2",
    );
    expect(qemuImg("compare", "-F", "raw", top, expected).code).toBe(0);
    expect(await img("rebase", "-u", "-b", "", top)).toMatchObject({ code: 0 });
    expect(JSON.parse(qemuImg("info", "--output=json", top).stdout)["backing-filename"]).toBeUndefined();
  });

  it("a backing-file loop is refused with a clear error, like qemu-img", async () => {
    const a = join(dir, "loop-a.qcow2");
    const b = join(dir, "loop-b.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", b, "1M");
    qemuImg("create", "-q", "-f", "qcow2", "-b", "loop-b.qcow2", "-F", "qcow2", a);
    expect(qemuImg("rebase", "-u", "-b", "loop-a.qcow2", "-F", "qcow2", b).code).toBe(0);
    expect(qemuImg("info", "--backing-chain", a).code).toBe(1);
    for (const argv of [
      ["info", "--backing-chain", a],
      ["convert", "-O", "raw", a, join(dir, "loop.raw")],
      ["map", a],
    ]) {
      const r = await img(...argv);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^backplane img: backing file '.*loop-a.qcow2' of '.*loop-b.qcow2' forms a loop/,
      );
    }
  });

  it("resize grows and, with --shrink, shrinks as qemu-img reads it", async () => {
    const path = join(dir, "resize.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", path, "1M");
    expect(await img("resize", path, "+1M")).toMatchObject({ code: 0, stdout: "Image resized.\n" });
    expect(JSON.parse(qemuImg("info", "--output=json", path).stdout)["virtual-size"]).toBe(2 << 20);
    expect(qemuImg("check", path).code).toBe(0);
    const rawPath = join(dir, "resize.raw");
    copyFileSync(raw, rawPath);
    expect(await img("resize", "--shrink", "-f", "raw", rawPath, "-32K")).toMatchObject({ code: 0 });
    expect(statSync(rawPath).size).toBe(32768);
  });

  it("snapshots made by us are listed by qemu-img, and ours list qemu's", async () => {
    const path = join(dir, "snap.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", path, "1M");
    qemuIo("qcow2", path, ["write -P 0x66 0 64k"]);
    expect(await img("snapshot", "-c", "ours", path)).toMatchObject({ code: 0 });
    expect(qemuImg("snapshot", "-c", "theirs", path).code).toBe(0);
    expect(qemuImg("snapshot", "-l", path).stdout).toMatch(/ours/);
    const listed = await img("snapshot", "-l", path);
    expect(listed.stdout).toMatch(/\bours\b[\s\S]*\btheirs\b/);
    qemuIo("qcow2", path, ["write -P 0x77 0 64k"]);
    expect(await img("snapshot", "-a", "ours", path)).toMatchObject({ code: 0 });
    expect(await img("snapshot", "-d", "theirs", path)).toMatchObject({ code: 0 });
    expect(qemuImg("snapshot", "-l", path).stdout).not.toMatch(/theirs/);
    expect(qemuImg("check", path).code).toBe(0);
    const expected = join(dir, "snap.expected.raw");
    writeFileSync(expected, new Uint8Array(1 << 20).fill(0x66, 0, 65536));
    expect(qemuImg("compare", "-F", "raw", path, expected).code).toBe(0);
  });

  it("snapshot -l and info print qemu-made snapshots like qemu-img", async () => {
    const path = join(dir, "snaplist.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", path, "1M");
    qemuIo("qcow2", path, ["write -P 1 0 64k"]);
    qemuImg("snapshot", "-c", "first", path);
    qemuImg("snapshot", "-c", "second", path);
    expect((await img("snapshot", "-l", path)).stdout).toBe(qemuImg("snapshot", "-l", path).stdout);
    const stable = (t: string) => t.replace(/^disk size: .*$/m, "");
    expect(stable((await img("info", path)).stdout)).toBe(stable(qemuImg("info", path).stdout));
    const strip = (t: string) => {
      const { "actual-size": _, ...rest } = JSON.parse(t);
      return rest;
    };
    expect(strip((await img("info", "--output=json", path)).stdout)).toEqual(
      strip(qemuImg("info", "--output=json", path).stdout),
    );
  });

  it("check exit codes and counts match qemu-img on a leaked and a corrupted image; -r leaks repairs", async () => {
    // Damage a fresh image's refcounts (qcow2 spec, "Header" and "Refcount blocks"): a leak is a
    // refcount on an unused cluster inside the file, a corruption a zero refcount on the L1 table.
    const damage = (path: string, kind: "leak" | "corrupt") => {
      qemuImg("create", "-q", "-f", "qcow2", path, "1M");
      qemuIo("qcow2", path, ["write -P 1 0 64k"]);
      const bytes = new Uint8Array(readFileSync(path));
      const view = new DataView(bytes.buffer);
      const refTable = Number(view.getBigUint64(48));
      const refBlock = Number(view.getBigUint64(refTable));
      const clusters = bytes.length / 65536;
      const cluster = kind === "leak" ? clusters : Number(view.getBigUint64(40)) / 65536;
      view.setUint16(refBlock + 2 * cluster, kind === "leak" ? 1 : 0);
      writeFileSync(path, kind === "leak" ? Uint8Array.from([...bytes, ...new Uint8Array(65536)]) : bytes);
    };
    const fields = (json: string) => {
      const r = JSON.parse(json);
      return [
        r["check-errors"],
        r.corruptions ?? 0,
        r.leaks ?? 0,
        r["total-clusters"],
        r["allocated-clusters"],
      ];
    };
    for (const [kind, code] of [
      ["leak", 3],
      ["corrupt", 2],
    ] as const) {
      const path = join(dir, `check-${kind}.qcow2`);
      damage(path, kind);
      const theirs = qemuImg("check", "--output=json", path);
      expect(theirs.code).toBe(code);
      const ours = await img("check", "--output=json", path);
      expect(ours.code).toBe(code);
      expect(fields(ours.stdout)).toEqual(fields(theirs.stdout));
    }
    const leaky = join(dir, "check-leak.qcow2");
    expect((await img("check", "-r", "leaks", leaky)).code).toBe(0);
    expect(qemuImg("check", leaky).code).toBe(0);
  });

  it.each([
    ["--size", "1G"],
    ["--size", "123456789"],
    ["-o", "cluster_size=4096", "--size", "1G"],
    ["@IMAGE"],
  ])("measure -O qcow2 %j agrees with qemu-img", async (...args) => {
    const image = join(dir, "measure-src.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", image, "4M");
    qemuIo("qcow2", image, ["write -P 1 0 1M", "write -P 2 3M 5k"]);
    const argv = [
      "measure",
      "--output=json",
      "-O",
      "qcow2",
      ...args.map((a) => (a === "@IMAGE" ? image : a)),
    ];
    const ours = await img(...argv);
    expect(ours.code, ours.stderr).toBe(0);
    const pick = (t: string) => {
      const { required, "fully-allocated": full } = JSON.parse(t);
      return { required, full };
    };
    expect(pick(ours.stdout)).toEqual(pick(qemuImg(...argv).stdout));
  });

  it("measure agrees with qemu-img for raw output", async () => {
    const ours = await img("measure", "--output=json", "-O", "raw", "--size", "1G");
    expect(JSON.parse(ours.stdout)).toEqual(
      JSON.parse(qemuImg("measure", "--output=json", "-O", "raw", "--size", "1G").stdout),
    );
  });
});
