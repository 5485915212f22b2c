/**
 * Debian repository indexes: the suite's `Release` file and a component's
 * `Packages` file, plus the Depends syntax used to follow metapackages.
 *
 * Spec: the Debian wiki "DebianRepository/Format" (Release fields and the
 * SHA256 checksum list; Packages paragraphs with Package, Version,
 * Architecture, Filename, Size, SHA256, Depends) and Debian Policy §7.1
 * (relationship syntax: comma-separated, "|" alternatives, version
 * constraints in parentheses, architecture qualifiers after ":").
 * Left out: OpenPGP verification of InRelease/Release.gpg (trust comes from
 * the transport and the host's mirror choice), Translation and
 * Contents indexes, version comparison (the newest entry listed is taken).
 */
import { CorruptDataError, NotFoundError } from "@backplane/core";
import { parseDeb822 } from "./deb822.js";

/** One file listed in a Release file's SHA256 field. */
export interface ReleaseFile {
  sha256: string;
  size: number;
}

export interface Release {
  suite: string;
  codename: string;
  date: string;
  /** "Acquire-By-Hash: yes": indexes may be fetched by digest from by-hash/SHA256/<hex>. */
  acquireByHash: boolean;
  architectures: string[];
  components: string[];
  /** Path relative to dists/<suite>/ -> checksum and size. */
  sha256: Map<string, ReleaseFile>;
}

/** One binary package paragraph of a Packages index. */
export interface PackageRecord {
  package: string;
  version: string;
  architecture: string;
  /** Path relative to the mirror root (pool/...). */
  filename: string;
  size: number;
  sha256: string;
  /** Depends: each element is a list of alternatives (package names only). */
  depends: string[][];
}

/** Parses a Release file (the unsigned form, not InRelease). */
export function parseRelease(text: string): Release {
  const [p] = parseDeb822(text);
  if (!p) throw new CorruptDataError("Release: file is empty");
  const list = (k: string) => (p.get(k) ?? "").split(/\s+/).filter(Boolean);
  const sha256 = new Map<string, ReleaseFile>();
  for (const line of (p.get("sha256") ?? "").split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 1 && parts[0] === "") continue;
    if (parts.length !== 3 || !/^[0-9a-f]{64}$/i.test(parts[0]) || !/^[0-9]+$/.test(parts[1])) {
      throw new CorruptDataError(`Release: malformed SHA256 line '${line.trim()}'`);
    }
    sha256.set(parts[2], { sha256: parts[0].toLowerCase(), size: Number(parts[1]) });
  }
  if (sha256.size === 0) throw new CorruptDataError("Release: no SHA256 checksums listed");
  return {
    suite: p.get("suite") ?? "",
    codename: p.get("codename") ?? "",
    date: p.get("date") ?? "",
    acquireByHash: p.get("acquire-by-hash")?.toLowerCase() === "yes",
    architectures: list("architectures"),
    components: list("components"),
    sha256,
  };
}

/** Parses a Depends (or Pre-Depends) value into alternatives of package names. */
export function parseDepends(value: string): string[][] {
  return value
    .split(",")
    .map((group) =>
      group
        .split("|")
        .map((alt) =>
          alt
            .trim()
            .replace(/\s*\(.*\)$/, "")
            .replace(/\s*\[.*\]$/, "")
            .replace(/:[a-z0-9-]+$/, ""),
        )
        .filter(Boolean),
    )
    .filter((alts) => alts.length > 0);
}

const PACKAGE_FIELDS = new Set([
  "package",
  "version",
  "architecture",
  "filename",
  "size",
  "sha256",
  "depends",
]);

/** Parses a Packages index. Later paragraphs for the same name replace earlier ones. */
export function parsePackages(text: string): Map<string, PackageRecord> {
  const packages = new Map<string, PackageRecord>();
  for (const p of parseDeb822(text, PACKAGE_FIELDS)) {
    const name = p.get("package");
    if (!name) throw new CorruptDataError("Packages: paragraph without a Package field");
    const need = (k: string) => {
      const v = p.get(k);
      if (!v) throw new CorruptDataError(`Packages: ${name} has no ${k} field`);
      return v;
    };
    const size = need("size");
    const sha256 = need("sha256");
    if (!/^[0-9]+$/.test(size)) throw new CorruptDataError(`Packages: ${name} has a bad Size '${size}'`);
    if (!/^[0-9a-f]{64}$/i.test(sha256))
      throw new CorruptDataError(`Packages: ${name} has a bad SHA256 '${sha256}'`);
    packages.set(name, {
      package: name,
      version: need("version"),
      architecture: need("architecture"),
      filename: need("filename"),
      size: Number(size),
      sha256: sha256.toLowerCase(),
      depends: parseDepends(p.get("depends") ?? ""),
    });
  }
  return packages;
}

/** Looks a package up, with a NotFoundError naming it and the index. */
export function findPackage(
  packages: Map<string, PackageRecord>,
  name: string,
  index = "Packages",
): PackageRecord {
  const record = packages.get(name);
  if (!record) throw new NotFoundError(`package '${name}' is not in ${index}`);
  return record;
}

/**
 * Follows a metapackage (e.g. `linux-image-riscv64`) to the first dependency
 * whose name matches `pattern` (e.g. /^linux-image-[0-9].*-riscv64$/).
 */
export function resolveMetapackage(
  packages: Map<string, PackageRecord>,
  meta: string,
  pattern: RegExp,
  index = "Packages",
): PackageRecord {
  const record = findPackage(packages, meta, index);
  const target = record.depends.flat().find((n) => pattern.test(n));
  if (!target) throw new NotFoundError(`${meta} ${record.version} has no dependency matching ${pattern}`);
  return findPackage(packages, target, index);
}
