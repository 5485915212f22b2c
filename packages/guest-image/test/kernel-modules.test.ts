import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CorruptDataError, NotFoundError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import {
  extractDebFiles,
  isModuleTreeFile,
  kernelModuleSource,
  type ModuleSource,
  moduleInfo,
  moduleName,
  readModinfo,
  resolveModules,
} from "../src/index.js";
import { hasTool, read, run, tempDir } from "./helpers.js";

const FAKE_KO = fileURLToPath(new URL("../../../tools/guest-tests/fake-ko.sh", import.meta.url));

/** An ELF object written by GNU objcopy with `tags` in its .modinfo section. */
function fakeKo(tags: string[], format = "elf64-little"): Uint8Array {
  const path = join(tempDir(), "m.ko");
  execFileSync(FAKE_KO, ["-f", format, path, ...tags]);
  return read(path);
}

/** The .modinfo strings as GNU readelf lists them. */
function readelfStrings(ko: Uint8Array): string[] {
  const dir = tempDir();
  writeFileSync(join(dir, "m.ko"), ko);
  return run(dir, "readelf", ["-p", ".modinfo", "m.ko"])
    .split("\n")
    .flatMap((line) => /^\s+\[\s*[0-9a-f]+\]\s\s(.*)$/.exec(line)?.[1] ?? []);
}

const flatten = (tags: Map<string, string[]>) =>
  [...tags].flatMap(([tag, values]) => values.map((v) => `${tag}=${v}`));

/** Fake modules modelled on Debian 6.12's ext4 and virtio_net chains. */
const catalogue: Record<string, string[]> = {
  ext4: ["alias=fs-ext4", "softdep=pre: crypto-crc32c", "depends=jbd2,mbcache,crc16", "name=ext4"],
  jbd2: ["softdep=pre: crypto-crc32c", "depends=", "name=jbd2"],
  mbcache: ["depends=", "name=mbcache"],
  crc16: ["depends=", "name=crc16"],
  crc32c_generic: ["alias=crypto-crc32c", "alias=crc32c", "depends=", "name=crc32c_generic"],
  virtio_net: ["depends=net_failover", "name=virtio_net"],
  net_failover: ["depends=failover", "name=net_failover"],
  failover: ["depends=", "name=failover"],
};

function source(
  modules: Record<string, string[]>,
  builtin: string[] = [],
  builtinAliases: string[] = [],
): ModuleSource {
  const kos = new Map(Object.entries(modules).map(([name, tags]) => [name, fakeKo(tags)]));
  return {
    builtin: new Set(builtin),
    builtinAliases: new Set(builtinAliases),
    load: async (name) => kos.get(name),
  };
}

describe.skipIf(!hasTool("objcopy") || !hasTool("readelf"))("readModinfo", () => {
  it.each(["elf64-little", "elf64-big", "elf32-little", "elf32-big"])(
    "reads the tags GNU readelf lists in a %s object",
    (format) => {
      const tags = ["license=GPL", "alias=crypto-crc32c", "alias=crc32c", "depends=", "name=crc32c_generic"];
      const ko = fakeKo(tags, format);
      expect(readelfStrings(ko)).toEqual(tags);
      expect(flatten(readModinfo(ko))).toEqual([
        "license=GPL",
        "alias=crypto-crc32c",
        "alias=crc32c",
        "depends=",
        "name=crc32c_generic",
      ]);
    },
  );

  it("reports a non-ELF file, an object without .modinfo and a truncated object", () => {
    expect(() =>
      readModinfo(new TextEncoder().encode("not an elf file at all, just some text here...")),
    ).toThrow("module: not an ELF file");
    const dir = tempDir();
    writeFileSync(join(dir, "blob"), "name=x\0");
    run(dir, "objcopy", ["-I", "binary", "-O", "elf64-little", "blob", "plain.o"]);
    expect(() => readModinfo(read(join(dir, "plain.o")), "plain.o")).toThrow(
      "plain.o: no .modinfo section (not a kernel module)",
    );
    const ko = fakeKo(["name=x"]);
    expect(() => readModinfo(ko.subarray(0, ko.length - 64), "cut.ko")).toThrow(CorruptDataError);
  });

  it("takes depends, pre soft dependencies and aliases from .modinfo", () => {
    const ko = fakeKo([
      "alias=a1",
      "softdep=pre: p1 p2 post: q1",
      "softdep=post: q2 pre: p3",
      "depends=d1,d2",
    ]);
    expect(moduleInfo(ko, "fallback")).toEqual({
      name: "fallback",
      depends: ["d1", "d2"],
      softdepPre: ["p1", "p2", "p3"],
      aliases: ["a1"],
    });
  });
});

describe("moduleName", () => {
  it("drops the folder and .ko[.xz] and reads '-' as '_'", () => {
    expect(moduleName("kernel/drivers/char/hw_random/virtio-rng.ko.xz")).toBe("virtio_rng");
    expect(moduleName("kernel/lib/crc16.ko")).toBe("crc16");
    expect(moduleName("kernel/fs/ext4/ext4.ko.gz")).toBe("ext4");
  });
});

describe.skipIf(!hasTool("objcopy"))("resolveModules", () => {
  it("orders each module after its depends and soft dependencies, skipping built-ins", async () => {
    const src = source(catalogue, ["virtio_console"]);
    const order = await resolveModules(["virtio_net", "virtio_console", "crc32c_generic", "ext4"], src);
    expect(order.map((m) => m.name)).toEqual([
      "failover",
      "net_failover",
      "virtio_net",
      "crc32c_generic",
      "jbd2",
      "mbcache",
      "crc16",
      "ext4",
    ]);
    expect(order[3].data).toEqual(await src.load("crc32c_generic"));
    expect(order[7].info.depends).toEqual(["jbd2", "mbcache", "crc16"]);
  });

  it("pulls in a soft dependency that names a module, and ignores one met by a built-in alias", async () => {
    const src = source(
      { libcrc32c: ["softdep=pre: crc32c", "name=libcrc32c"], crc32c: ["name=crc32c"], ext4: catalogue.ext4 },
      ["jbd2", "mbcache", "crc16"],
      ["crypto-crc32c"],
    );
    expect((await resolveModules(["libcrc32c", "ext4"], src)).map((m) => m.name)).toEqual([
      "crc32c",
      "libcrc32c",
      "ext4",
    ]);
    // modpost may name dependencies with '-' where the module name has '_'.
    const dashed = source({ snd_hda_intel: ["depends=snd-pcm"], snd_pcm: ["name=snd_pcm"] });
    expect((await resolveModules(["snd-hda-intel"], dashed)).map((m) => m.name)).toEqual([
      "snd_pcm",
      "snd_hda_intel",
    ]);
  });

  it("names an alias soft dependency nobody provides, a missing module and a cycle", async () => {
    await expect(resolveModules(["ext4"], source(catalogue))).rejects.toThrow(
      new NotFoundError(
        "kernel module 'ext4' wants 'crypto-crc32c' loaded first (softdep); add the module providing it",
      ),
    );
    const { jbd2: _, ...noJbd2 } = catalogue;
    await expect(resolveModules(["crc32c_generic", "ext4"], source(noJbd2))).rejects.toThrow(
      "kernel module 'jbd2' (needed by ext4) is neither loadable nor built in",
    );
    await expect(resolveModules(["nothing"], source({}))).rejects.toThrow(NotFoundError);
    const cycle = source({ a: ["depends=b"], b: ["depends=a"] });
    await expect(resolveModules(["a"], cycle)).rejects.toThrow(CorruptDataError);
  });
});

describe.skipIf(!hasTool("objcopy") || !hasTool("dpkg-deb"))("kernelModuleSource", () => {
  it("resolves modules from a kernel package built by dpkg-deb, decompressing .ko.xz and .ko.gz", async () => {
    const release = "9.9.9-test-riscv64";
    const dir = tempDir();
    const root = join(dir, "pkg");
    const tree = join(root, "usr/lib/modules", release);
    const put = (path: string, data: Uint8Array | string) => {
      mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, data);
    };
    put(
      join(root, "DEBIAN/control"),
      "Package: k\nVersion: 1\nArchitecture: riscv64\nMaintainer: T <t@example.org>\nDescription: k\n",
    );
    const kos: Record<string, Uint8Array> = {};
    for (const [name, path] of [
      ["ext4", "kernel/fs/ext4/ext4.ko"],
      ["jbd2", "kernel/fs/jbd2/jbd2.ko"],
      ["mbcache", "kernel/fs/mbcache.ko"],
      ["crc32c_generic", "kernel/crypto/crc32c_generic.ko"],
      ["virtio_rng", "kernel/drivers/char/hw_random/virtio-rng.ko"],
    ] as const) {
      kos[name] = fakeKo(catalogue[name] ?? ["depends=", "name=virtio_rng"]);
      put(join(tree, path), kos[name]);
    }
    run(tree, "xz", ["kernel/fs/ext4/ext4.ko", "kernel/drivers/char/hw_random/virtio-rng.ko"]);
    run(tree, "gzip", ["-n", "kernel/fs/jbd2/jbd2.ko"]);
    put(join(tree, "modules.builtin"), "kernel/lib/crc16.ko\nkernel/drivers/char/virtio_console.ko\n");
    put(join(tree, "modules.builtin.modinfo"), "crc16.license=GPL\0crc16.alias=crc-16\0");
    // Another release's tree and files depmod writes are not read.
    put(join(root, "usr/lib/modules/1.0-old/kernel/fs/mbcache.ko"), "not a module");
    put(join(tree, "modules.order"), "kernel/fs/ext4/ext4.ko\n");
    run(dir, "dpkg-deb", ["--root-owner-group", "-Zxz", "--build", "pkg", "k.deb"]);

    const files = await extractDebFiles(read(join(dir, "k.deb")), (p) => isModuleTreeFile(p, release), "k");
    expect([...files.keys()].sort()).toEqual(
      [
        "kernel/crypto/crc32c_generic.ko",
        "kernel/drivers/char/hw_random/virtio-rng.ko.xz",
        "kernel/fs/ext4/ext4.ko.xz",
        "kernel/fs/jbd2/jbd2.ko.gz",
        "kernel/fs/mbcache.ko",
        "modules.builtin",
        "modules.builtin.modinfo",
      ].map((p) => `usr/lib/modules/${release}/${p}`),
    );
    const src = kernelModuleSource(files, release);
    expect([...src.builtin].sort()).toEqual(["crc16", "virtio_console"]);
    expect([...src.builtinAliases]).toEqual(["crc-16"]);
    const order = await resolveModules(["virtio_rng", "virtio_console", "crc32c_generic", "ext4"], src);
    expect(order.map((m) => m.name)).toEqual(["virtio_rng", "crc32c_generic", "jbd2", "mbcache", "ext4"]);
    for (const m of order) expect(m.data).toEqual(kos[m.name]);
    expect(() => kernelModuleSource(new Map(), release)).toThrow(
      `kernel ${release}: modules.builtin is missing`,
    );
  });

  it("accepts only module-tree files of the given release", () => {
    expect(isModuleTreeFile("lib/modules/6.1.0-riscv64/kernel/fs/ext4/ext4.ko", "6.1.0-riscv64")).toBe(true);
    expect(isModuleTreeFile("usr/lib/modules/6.1.0-riscv64/modules.builtin", "6.1.0-riscv64")).toBe(true);
    expect(isModuleTreeFile("usr/lib/modules/6.1.0-riscv64/modules.dep", "6.1.0-riscv64")).toBe(false);
    expect(isModuleTreeFile("usr/lib/modules/6.2.0-riscv64/kernel/a.ko", "6.1.0-riscv64")).toBe(false);
    expect(isModuleTreeFile("boot/vmlinux-6.1.0-riscv64", "6.1.0-riscv64")).toBe(false);
  });
});
