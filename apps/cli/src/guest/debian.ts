/**
 * The Debian 13 (trixie) riscv64 guest: fetched from a Debian mirror,
 * verified, unpacked and cached, so `backplane run` can boot it offline.
 *
 * Chain of trust: dists/trixie/Release lists the SHA-256 of the Packages
 * index; the index lists the SHA-256 and size of each .deb; the manifest in
 * the cache records the SHA-256 of each extracted file and is re-checked on
 * every use. Deviation: the Release file's OpenPGP signature is not checked
 * (the mirror is the one the host's apt already trusts, or given by flag).
 * What is fetched: the kernel package named by the linux-image-riscv64
 * metapackage (boot/vmlinux-* and the modules in {@link GUEST_MODULES} with
 * what they depend on, read in the same pass over the package),
 * busybox-static (usr/bin/busybox) and opensbi (the generic
 * fw_jump.bin/fw_dynamic.bin). BusyBox and the modules are packed into a
 * BusyBox initramfs whose /init loads the modules at boot.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { NotFoundError } from "@backplane/core";
import {
  buildInitramfs,
  decompress,
  extractDebFiles,
  findPackage,
  isModuleTreeFile,
  kernelModuleSource,
  type PackageRecord,
  parsePackages,
  parseRelease,
  parseSourcesDeb822,
  parseSourcesList,
  primaryMirror,
  resolveMetapackage,
  resolveModules,
  sha256Hex,
  verifySha256,
} from "@backplane/guest-image";
import {
  type DownloadProgress,
  httpGet,
  readAptSourceFiles,
  readFileIfExists,
  userCacheDir,
  writeFileAtomic,
} from "@backplane/host-node";

const SUITE = "trixie";
const ARCH = "riscv64";
const COMPONENT = "main";
const KERNEL_META = "linux-image-riscv64";
const KERNEL_PACKAGE = /^linux-image-6\.12\.[0-9].*-riscv64$/;
const BUSYBOX_PATH = "usr/bin/busybox";
const OPENSBI_DIR = "usr/lib/riscv64-linux-gnu/opensbi/generic";
const MANIFEST_VERSION = 2;

/**
 * Modules the initramfs loads (their dependencies are added): Debian builds
 * these as modules. crc32c_generic provides "crypto-crc32c", which ext4 and
 * jbd2 ask for as a soft dependency (metadata checksums). virtio_console is
 * built in and so left out.
 */
export const GUEST_MODULES = [
  "virtio_mmio",
  "virtio_blk",
  "virtio_net",
  "virtio_rng",
  "virtio_console",
  "crc32c_generic",
  "ext4",
] as const;
const ROLES = ["kernel", "initrd", "fwJump", "fwDynamic", "busybox"] as const;

/** Paths of a complete, verified guest in the cache. */
export interface DebianGuest {
  /** Uncompressed RISC-V Linux Image (boot/vmlinux-*), for -kernel. */
  kernel: string;
  /** gzip-compressed newc initramfs with BusyBox, for -initrd. */
  initrd: string;
  /** OpenSBI generic firmware for -bios. */
  firmware: { jump: string; dynamic: string };
  /** The static BusyBox binary itself. */
  busybox: string;
  /** Folder holding all of the above and manifest.json. */
  dir: string;
  manifest: GuestManifest;
}

export type GuestFileRole = (typeof ROLES)[number];

export interface GuestManifest {
  version: number;
  suite: string;
  arch: string;
  mirror: string;
  releaseDate: string;
  packages: Array<Pick<PackageRecord, "package" | "version" | "filename" | "size" | "sha256">>;
  /** Kernel modules in the initramfs, in the order /init loads them. */
  modules: string[];
  files: Record<GuestFileRole, { name: string; size: number; sha256: string }>;
}

export interface DebianGuestOptions {
  /** Mirror root URL (the folder holding dists/ and pool/); default: from the host's apt sources. */
  mirror?: string;
  /** Cache root; default `$XDG_CACHE_HOME/backplane` or `~/.cache/backplane`. */
  cacheDir?: string;
  /** apt configuration folder to read the mirror from (default /etc/apt). */
  aptDir?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Status lines (what is being fetched). */
  onStatus?: (line: string) => void;
}

/** The folder a guest lives in under a cache root. */
export function guestDir(cacheDir = userCacheDir("backplane")): string {
  return join(cacheDir, `debian-${SUITE}-${ARCH}`);
}

function pathsOf(dir: string, manifest: GuestManifest): DebianGuest {
  const at = (role: GuestFileRole) => join(dir, manifest.files[role].name);
  return {
    kernel: at("kernel"),
    initrd: at("initrd"),
    firmware: { jump: at("fwJump"), dynamic: at("fwDynamic") },
    busybox: at("busybox"),
    dir,
    manifest,
  };
}

/**
 * The cached guest if its manifest and every file it lists are present and
 * match their recorded SHA-256; otherwise undefined. Never touches the network.
 */
export async function cachedDebianGuest(cacheDir?: string): Promise<DebianGuest | undefined> {
  const dir = guestDir(cacheDir);
  const raw = await readFileIfExists(join(dir, "manifest.json"));
  if (!raw) return undefined;
  let manifest: GuestManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    return undefined;
  }
  if (manifest?.version !== MANIFEST_VERSION || typeof manifest.files !== "object") return undefined;
  for (const role of ROLES) {
    const file = manifest.files[role];
    if (typeof file?.name !== "string") return undefined;
    const bytes = await readFileIfExists(join(dir, file.name));
    if (!bytes || bytes.length !== file.size || (await sha256Hex(bytes)) !== file.sha256) return undefined;
  }
  return pathsOf(dir, manifest);
}

/** The mirror named by the host's apt sources (sources.list, then sources.list.d). */
export async function aptMirror(aptDir?: string): Promise<string> {
  const files = await readAptSourceFiles(aptDir);
  const sources = files.flatMap((f) =>
    f.format === "deb822" ? parseSourcesDeb822(f.text) : parseSourcesList(f.text),
  );
  const mirror = primaryMirror(sources);
  if (!mirror) {
    throw new NotFoundError(`no Debian mirror in ${aptDir ?? "/etc/apt"} sources; pass --mirror URL`);
  }
  return mirror;
}

/**
 * Returns the cached guest, fetching and verifying it first when the cache
 * is missing or damaged. A complete cache is used without any network access.
 */
export async function ensureDebianGuest(options: DebianGuestOptions = {}): Promise<DebianGuest> {
  const cached = await cachedDebianGuest(options.cacheDir);
  if (cached) return cached;
  return fetchDebianGuest(options);
}

/** The three packages the guest is made of, looked up in the verified Packages index. */
async function resolveGuestPackages(mirror: string, get: (url: string) => Promise<Uint8Array>) {
  const dists = `${mirror}/dists/${SUITE}`;
  const release = parseRelease(new TextDecoder().decode(await get(`${dists}/Release`)));
  const indexBase = `${COMPONENT}/binary-${ARCH}/Packages`;
  const indexName = [`${indexBase}.xz`, `${indexBase}.gz`, indexBase].find((n) => release.sha256.has(n));
  if (!indexName) throw new NotFoundError(`${dists}/Release lists no ${indexBase}(.xz|.gz)`);
  const expected = release.sha256.get(indexName) as { sha256: string; size: number };
  // By digest when the mirror offers it, so an archive update between the
  // Release and the index download cannot make them disagree.
  const indexUrl = release.acquireByHash
    ? `${dists}/${COMPONENT}/binary-${ARCH}/by-hash/SHA256/${expected.sha256}`
    : `${dists}/${indexName}`;
  const index = await get(indexUrl);
  await verifySha256(index, expected, indexUrl);
  // The ~50 MiB index text and its records go out of scope when this returns.
  const packages = parsePackages(new TextDecoder().decode(await decompress(index, indexUrl)));
  return {
    releaseDate: release.date,
    kernelPkg: resolveMetapackage(packages, KERNEL_META, KERNEL_PACKAGE, indexUrl),
    busyboxPkg: findPackage(packages, "busybox-static", indexUrl),
    opensbiPkg: findPackage(packages, "opensbi", indexUrl),
  };
}

/** Downloads, verifies and unpacks the guest into the cache, replacing what is there. */
export async function fetchDebianGuest(options: DebianGuestOptions = {}): Promise<DebianGuest> {
  const mirror = (options.mirror ?? (await aptMirror(options.aptDir))).replace(/\/+$/, "");
  const status = options.onStatus ?? (() => {});
  const get = (url: string) => httpGet(url, { onProgress: options.onProgress });

  status(`mirror ${mirror}, suite ${SUITE}, architecture ${ARCH}`);
  const { releaseDate, kernelPkg, busyboxPkg, opensbiPkg } = await resolveGuestPackages(mirror, get);
  const release = kernelPkg.package.slice("linux-image-".length);
  const kernelPath = `boot/vmlinux-${release}`;

  const unpack = async (pkg: PackageRecord, paths: string[] | ((path: string) => boolean)) => {
    const url = `${mirror}/${pkg.filename}`;
    status(`${pkg.package} ${pkg.version}`);
    const deb = await get(url);
    await verifySha256(deb, pkg, `${url} (${pkg.package} ${pkg.version})`);
    return extractDebFiles(deb, paths, `${pkg.package} ${pkg.version}`);
  };
  const kernelFiles = await unpack(kernelPkg, (p) => p === kernelPath || isModuleTreeFile(p, release));
  const kernel = kernelFiles.get(kernelPath);
  if (!kernel)
    throw new NotFoundError(`${kernelPkg.package} ${kernelPkg.version}: '${kernelPath}' is missing`);
  const modules = await resolveModules(GUEST_MODULES, kernelModuleSource(kernelFiles, release));
  kernelFiles.clear();
  // extractDebFiles throws unless every requested path was found.
  const fw = await unpack(opensbiPkg, [`${OPENSBI_DIR}/fw_jump.bin`, `${OPENSBI_DIR}/fw_dynamic.bin`]);
  const busybox = (await unpack(busyboxPkg, [BUSYBOX_PATH])).get(BUSYBOX_PATH) as Uint8Array;
  const initrd = buildInitramfs({
    busybox,
    modules: modules.map((m) => ({ name: `${m.name}.ko`, data: m.data })),
  });

  const contents: Record<GuestFileRole, [string, Uint8Array]> = {
    kernel: [kernelPath.slice("boot/".length), kernel],
    initrd: ["initramfs.cpio.gz", initrd],
    fwJump: ["fw_jump.bin", fw.get(`${OPENSBI_DIR}/fw_jump.bin`) as Uint8Array],
    fwDynamic: ["fw_dynamic.bin", fw.get(`${OPENSBI_DIR}/fw_dynamic.bin`) as Uint8Array],
    busybox: ["busybox", busybox],
  };
  const dir = guestDir(options.cacheDir);
  const files = {} as GuestManifest["files"];
  for (const [role, [name, data]] of Object.entries(contents) as Array<
    [GuestFileRole, [string, Uint8Array]]
  >) {
    await writeFileAtomic(join(dir, name), data);
    files[role] = { name, size: data.length, sha256: await sha256Hex(data) };
  }
  const manifest: GuestManifest = {
    version: MANIFEST_VERSION,
    suite: SUITE,
    arch: ARCH,
    mirror,
    releaseDate,
    packages: [kernelPkg, opensbiPkg, busyboxPkg].map(
      ({ package: name, version, filename, size, sha256 }) => ({
        package: name,
        version,
        filename,
        size,
        sha256,
      }),
    ),
    modules: modules.map((m) => m.name),
    files,
  };
  await writeFileAtomic(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  // Drop what an older fetch left (e.g. the previous kernel version).
  const keep = new Set(["manifest.json", ...Object.values(files).map((f) => f.name)]);
  for (const name of await readdir(dir)) if (!keep.has(name)) await rm(join(dir, name), { force: true });
  return pathsOf(dir, manifest);
}
