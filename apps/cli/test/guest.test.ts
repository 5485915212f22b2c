import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedDebianGuest, ensureDebianGuest } from "../src/guest/index.js";
import {
  backplane,
  buildMirror,
  KERNEL_PKG,
  type MirrorServer,
  payload,
  serveMirror,
  sh,
} from "./guest-mirror.js";
import { tempDir } from "./support/files.js";

let mirrorDir: string;
let server: MirrorServer;

beforeAll(async () => {
  mirrorDir = buildMirror();
  server = await serveMirror(mirrorDir);
});
afterAll(() => server.close());

const newCache = () => tempDir("guest-cache-");
const bytes = (path: string) => new Uint8Array(readFileSync(path));

function pathsFrom(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/, 2) as [string, string]),
  );
}

describe("backplane guest fetch against a local mirror", () => {
  it("fetches, verifies and unpacks the guest, then works offline from the cache", async () => {
    const cache = newCache();
    const first = await backplane(["guest", "fetch", "--mirror", `${server.url}/`, "--cache", cache]);
    expect(first.stderr).toContain(`downloaded ${server.url}/dists/trixie/Release`);
    expect(first.stderr).toContain(`downloaded ${server.url}/dists/trixie/main/binary-riscv64/Packages.xz`);
    expect(first.code).toBe(0);
    const paths = pathsFrom(first.stdout);
    expect(paths.kernel).toBe(join(cache, "debian-trixie-riscv64", "vmlinux-6.12.99+test-riscv64"));
    expect(bytes(paths.kernel)).toEqual(payload.kernel);
    expect(bytes(paths.fw_jump)).toEqual(payload.fwJump);
    expect(bytes(paths.fw_dynamic)).toEqual(payload.fwDynamic);
    expect(bytes(paths.busybox)).toEqual(payload.busybox);
    // Host gzip unpacks the initramfs; the cpio inside carries busybox, its applets and /init.
    const cpio = sh(cache, `gzip -dc '${paths.initrd}' | od -An -c | tr -d ' \\n'`);
    for (const name of ["bin/busybox", "bin/mount", "dev/console", "init", "TRAILER!!!"]) {
      expect(cpio).toContain(`${name}\\0`);
    }
    // Host cpio unpacks it: the modules, uncompressed, and /etc/modules loading them after their dependencies.
    const root = tempDir("guest-initrd-");
    sh(root, `gzip -dc '${paths.initrd}' | cpio -id --quiet`);
    const order = ["virtio_mmio", "virtio_blk", "failover", "net_failover", "virtio_net"];
    order.push("virtio_rng", "crc32c_generic", "jbd2", "ext4");
    expect(readFileSync(join(root, "etc/modules"), "utf8")).toBe(order.map((m) => `${m}.ko\n`).join(""));
    for (const m of order)
      expect(bytes(join(root, "lib/modules", `${m}.ko`))).toEqual(payload.modules.get(m));
    expect(readdirSync(join(root, "lib/modules")).length).toBe(order.length);
    const manifest = JSON.parse(readFileSync(join(cache, "debian-trixie-riscv64/manifest.json"), "utf8"));
    expect(manifest.modules).toEqual(order);

    const fetched = server.requests.length;
    await server.close();
    try {
      const again = await backplane(["guest", "fetch", "--mirror", server.url, "--cache", cache]);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(first.stdout);
      const path = await backplane(["guest", "path", "--cache", cache]);
      expect(path).toMatchObject({ code: 0, stdout: first.stdout });
      expect(server.requests.length).toBe(fetched);
    } finally {
      server = await serveMirror(mirrorDir);
    }
  });

  it("stops with one line naming the .deb and both hashes when a download does not match Packages", async () => {
    const busyboxDeb = sh(mirrorDir, "ls pool/main/b/busybox-static_*.deb").trim();
    const tampered = bytes(join(mirrorDir, busyboxDeb));
    tampered[tampered.length - 100] ^= 0xff;
    server.override.set(`/${busyboxDeb}`, tampered);
    try {
      writeFileSync(join(mirrorDir, "tampered.deb"), tampered);
      const [good] = sh(mirrorDir, `sha256sum ${busyboxDeb}`).split(" ");
      const [bad] = sh(mirrorDir, "sha256sum tampered.deb").split(" ");
      const cache = newCache();
      const run = await backplane(["guest", "fetch", "--mirror", server.url, "--cache", cache]);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split("\n").at(-1)).toBe(
        `backplane: ${server.url}/${busyboxDeb} (busybox-static 1:1.37.0-1): checksum mismatch: expected ${good}, got ${bad}`,
      );
      expect(await cachedDebianGuest(cache)).toBeUndefined();
    } finally {
      server.override.clear();
    }
  });

  it("reports an unreachable mirror and an HTTP error status", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const down = await backplane([
      "guest",
      "fetch",
      "--mirror",
      `http://127.0.0.1:${port}`,
      "--cache",
      newCache(),
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split("\n").at(-1)).toBe(
      `backplane: http://127.0.0.1:${port}/dists/trixie/Release: mirror unreachable (ECONNREFUSED)`,
    );
    await expect(
      ensureDebianGuest({ mirror: `${server.url}/nothing`, cacheDir: newCache() }),
    ).rejects.toThrow(`${server.url}/nothing/dists/trixie/Release: HTTP 404 Not Found`);
  });

  it("checks the Packages index against Release", async () => {
    const index = "/dists/trixie/main/binary-riscv64/Packages.xz";
    server.override.set(index, bytes(join(mirrorDir, index)).subarray(1));
    try {
      await expect(ensureDebianGuest({ mirror: server.url, cacheDir: newCache() })).rejects.toThrow(
        new RegExp(`^${server.url}${index} \\(size\\): checksum mismatch`),
      );
    } finally {
      server.override.clear();
    }
  });

  it("fetches the index by hash when Release offers Acquire-By-Hash", async () => {
    const release = readFileSync(join(mirrorDir, "dists/trixie/Release"), "utf8");
    const index = "/dists/trixie/main/binary-riscv64/Packages.xz";
    server.override.set(
      "/dists/trixie/Release",
      new TextEncoder().encode(`Acquire-By-Hash: yes\n${release}`),
    );
    // The plain name now serves a newer, different index: only the by-hash copy matches Release.
    server.override.set(index, bytes(join(mirrorDir, index)).subarray(1));
    try {
      const sha = sh(mirrorDir, `sha256sum < .${index} | cut -d" " -f1`).trim();
      const guest = await ensureDebianGuest({ mirror: server.url, cacheDir: newCache() });
      expect(bytes(guest.kernel)).toEqual(payload.kernel);
      expect(server.requests).toContain(`/dists/trixie/main/binary-riscv64/by-hash/SHA256/${sha}`);
    } finally {
      server.override.clear();
    }
  });

  it("takes the mirror from apt sources and refetches a damaged cache", async () => {
    const apt = tempDir("guest-apt-");
    mkdirSync(join(apt, "sources.list.d"));
    writeFileSync(
      join(apt, "sources.list.d", "debian.sources"),
      `Types: deb\nURIs: ${server.url}/\nSuites: bookworm bookworm-updates\nComponents: main\n`,
    );
    const cache = newCache();
    const guest = await ensureDebianGuest({ aptDir: apt, cacheDir: cache });
    expect(guest.manifest.mirror).toBe(server.url);
    expect(guest.manifest.packages.map((p) => p.package)).toEqual([KERNEL_PKG, "opensbi", "busybox-static"]);
    const initrd = bytes(guest.initrd);
    const damaged = bytes(guest.kernel);
    damaged[0] ^= 1;
    writeFileSync(guest.kernel, damaged);
    writeFileSync(join(guest.dir, "vmlinux-6.1.0-old-riscv64"), "left by an older fetch");
    expect(await cachedDebianGuest(cache)).toBeUndefined();
    const before = server.requests.length;
    const again = await ensureDebianGuest({ aptDir: apt, cacheDir: cache });
    expect(server.requests.length).toBeGreaterThan(before);
    expect(bytes(again.kernel)).toEqual(payload.kernel);
    // Rebuilt from the same packages: the same bytes.
    expect(bytes(again.initrd)).toEqual(initrd);
    expect(readdirSync(again.dir).sort()).toEqual([
      "busybox",
      "fw_dynamic.bin",
      "fw_jump.bin",
      "initramfs.cpio.gz",
      "manifest.json",
      "vmlinux-6.12.99+test-riscv64",
    ]);
    await expect(ensureDebianGuest({ aptDir: join(apt, "none"), cacheDir: newCache() })).rejects.toThrow(
      /no Debian mirror in .*none sources; pass --mirror URL/,
    );
  });

  it("guest path fails clearly without a cached guest", async () => {
    const cache = newCache();
    const run = await backplane(["guest", "path", "--cache", cache]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `backplane: no complete guest in ${join(cache, "debian-trixie-riscv64")}; run 'backplane guest fetch'\n`,
    );
  });
});
