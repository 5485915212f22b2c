// Test-only: a tiny Debian mirror (Release, Packages, .debs built by
// dpkg-deb and indexed by dpkg-scanpackages) served over HTTP on 127.0.0.1.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pattern, tempDir } from "./support/files.js";

export const KERNEL_PKG = "linux-image-6.12.99+test-riscv64";
const MODULE_TREE = "usr/lib/modules/6.12.99+test-riscv64";
const FAKE_KO = fileURLToPath(new URL("../../../tools/guest-tests/fake-ko.sh", import.meta.url));

/** An ELF object with `tags` in its .modinfo section, standing in for a kernel module. */
function fakeModule(tags: string[]): Uint8Array {
  const path = join(tempDir("guest-ko-"), "m.ko");
  execFileSync(FAKE_KO, [path, ...tags]);
  return new Uint8Array(readFileSync(path));
}

/** Stand-ins for the modules the guest asks for, with Debian 6.12's dependencies: name → [path, .modinfo]. */
const MODULES: Record<string, [string, string[]]> = {
  virtio_mmio: ["kernel/drivers/virtio/virtio_mmio.ko", ["depends=", "name=virtio_mmio"]],
  virtio_blk: ["kernel/drivers/block/virtio_blk.ko", ["depends=", "name=virtio_blk"]],
  virtio_net: ["kernel/drivers/net/virtio_net.ko", ["depends=net_failover", "name=virtio_net"]],
  net_failover: ["kernel/drivers/net/net_failover.ko", ["depends=failover", "name=net_failover"]],
  failover: ["kernel/net/core/failover.ko", ["depends=", "name=failover"]],
  virtio_rng: ["kernel/drivers/char/hw_random/virtio-rng.ko", ["depends=", "name=virtio_rng"]],
  crc32c_generic: ["kernel/crypto/crc32c_generic.ko", ["alias=crypto-crc32c", "name=crc32c_generic"]],
  ext4: ["kernel/fs/ext4/ext4.ko", ["softdep=pre: crypto-crc32c", "depends=jbd2", "name=ext4"]],
  jbd2: ["kernel/fs/jbd2/jbd2.ko", ["softdep=pre: crypto-crc32c", "depends=", "name=jbd2"]],
};

/** The module files as packaged: xz-compressed by host xz, plus modules.builtin. */
function moduleTree(): Record<string, Uint8Array> {
  const tree: Record<string, Uint8Array> = {
    [`${MODULE_TREE}/modules.builtin`]: new TextEncoder().encode("kernel/drivers/char/virtio_console.ko\n"),
  };
  for (const [name, [path]] of Object.entries(MODULES)) {
    tree[`${MODULE_TREE}/${path}.xz`] = new Uint8Array(
      execFileSync("xz", ["-c"], { input: payload.modules.get(name) }),
    );
  }
  return tree;
}

export const OPENSBI_DIR = "usr/lib/riscv64-linux-gnu/opensbi/generic";

/** The files the fake packages carry. */
export const payload = {
  kernel: pattern(200_000, 1),
  fwJump: pattern(5_000, 2),
  fwDynamic: pattern(5_001, 3),
  // Random bytes (no '[') around a BusyBox-style applet name table.
  /** The uncompressed modules by name. */
  modules: new Map(Object.entries(MODULES).map(([name, [, tags]]) => [name, fakeModule(tags)])),
  busybox: (() => {
    const junk = pattern(4000, 4).map((b) => (b === 0x5b ? 0 : b));
    const table = new TextEncoder().encode("[\0[[\0cat\0mount\0sh\0\x01");
    const out = new Uint8Array(junk.length * 2 + table.length);
    out.set(junk);
    out.set(table, junk.length);
    out.set(junk, junk.length + table.length);
    return out;
  })(),
};

export const sh = (cwd: string, cmd: string) => execFileSync("sh", ["-c", cmd], { cwd, encoding: "utf8" });

function deb(
  mirror: string,
  name: string,
  version: string,
  arch: string,
  files: Record<string, Uint8Array>,
  depends?: string,
) {
  const root = join(mirror, "build", name);
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  const control = [
    `Package: ${name}`,
    `Version: ${version}`,
    `Architecture: ${arch}`,
    "Maintainer: T <t@example.org>",
  ];
  if (depends) control.push(`Depends: ${depends}`);
  writeFileSync(join(root, "DEBIAN/control"), `${control.join("\n")}\nDescription: test package\n`);
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  const pool = join(mirror, "pool/main", name[0]);
  mkdirSync(pool, { recursive: true });
  const file = `${name}_${version.replace(/^[0-9]+:/, "")}_${arch}.deb`;
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, join(pool, file)], {
    stdio: "ignore",
  });
}

/** Builds the mirror folder; returns its path. */
export function buildMirror(): string {
  const mirror = tempDir("guest-mirror-");
  deb(mirror, KERNEL_PKG, "6.12.99-1", "riscv64", {
    "boot/vmlinux-6.12.99+test-riscv64": payload.kernel,
    "boot/config-6.12.99+test-riscv64": new TextEncoder().encode("CONFIG_X=y\n"),
    ...moduleTree(),
  });
  deb(mirror, "linux-image-riscv64", "6.12.99-1", "riscv64", {}, `${KERNEL_PKG} (= 6.12.99-1)`);
  deb(mirror, "busybox-static", "1:1.37.0-1", "riscv64", { "usr/bin/busybox": payload.busybox });
  deb(mirror, "opensbi", "1.6-1", "all", {
    [`${OPENSBI_DIR}/fw_jump.bin`]: payload.fwJump,
    [`${OPENSBI_DIR}/fw_dynamic.bin`]: payload.fwDynamic,
  });
  const dists = join(mirror, "dists/trixie");
  mkdirSync(join(dists, "main/binary-riscv64"), { recursive: true });
  sh(mirror, "dpkg-scanpackages -m pool /dev/null 2>/dev/null > dists/trixie/main/binary-riscv64/Packages");
  sh(dists, "xz -k main/binary-riscv64/Packages");
  // by-hash copies, used only when a Release says "Acquire-By-Hash: yes".
  sh(
    join(dists, "main/binary-riscv64"),
    'mkdir -p by-hash/SHA256 && for f in Packages Packages.xz; do cp $f by-hash/SHA256/$(sha256sum < $f | cut -d" " -f1); done',
  );
  const sums = sh(
    dists,
    "for f in main/binary-riscv64/Packages main/binary-riscv64/Packages.xz; do echo \" $(sha256sum < $f | cut -d' ' -f1) $(stat -c %s $f) $f\"; done",
  );
  writeFileSync(
    join(dists, "Release"),
    `Origin: Debian\nSuite: stable\nCodename: trixie\nDate: Sat, 01 Nov 2025 10:00:00 UTC\nArchitectures: all riscv64\nComponents: main\nSHA256:\n${sums}`,
  );
  return mirror;
}

/** Serves `root` on 127.0.0.1; `override` replaces the bytes of chosen paths. */
export interface MirrorServer {
  url: string;
  requests: string[];
  override: Map<string, Uint8Array>;
  close(): Promise<void>;
}

export async function serveMirror(root: string): Promise<MirrorServer> {
  const requests: string[] = [];
  const override = new Map<string, Uint8Array>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    try {
      const body = override.get(path) ?? readFileSync(join(root, path));
      res.writeHead(200, { "content-length": String(body.length) });
      res.end(body);
    } catch {
      res.writeHead(404, "Not Found");
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    override,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const CLI = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** Runs `backplane <args>` from source in a child process (the server keeps serving meanwhile). */
export function backplane(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--conditions=source", "--import", "tsx", CLI, ...args],
      { cwd: fileURLToPath(new URL("..", import.meta.url)) },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
