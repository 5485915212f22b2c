/**
 * Debian binary packages (.deb): an ar archive holding `debian-binary`
 * ("2.0\n"), `control.tar[.gz|.xz]` and `data.tar[.gz|.xz]`.
 *
 * Spec: deb(5) (format version 2.0) and the ar/tar/compression readers in
 * this package. Extraction pulls regular files out of data.tar, by name
 * (stopping as soon as all are found) or by a predicate on the path.
 * Left out: the old 0.939 format, signatures (_gpg* members), following
 * symlinks or hard links when extracting, maintainer scripts.
 */
import { CorruptDataError, NotFoundError, UnsupportedError } from "@backplane/core";
import { type ArMember, readAr } from "./ar.js";
import { decompressStream } from "./compression.js";
import { readTar } from "./tar.js";

/** The three members of a .deb. */
export interface DebArchive {
  control: ArMember;
  data: ArMember;
}

/** Splits a .deb into its control and data tarballs. `what` names it in errors. */
export function openDeb(bytes: Uint8Array, what = "package"): DebArchive {
  const members = readAr(bytes);
  const version =
    members[0]?.name === "debian-binary" ? new TextDecoder().decode(members[0].data) : undefined;
  if (version === undefined)
    throw new CorruptDataError(`${what}: not a .deb (first member is not 'debian-binary')`);
  if (!version.startsWith("2."))
    throw new UnsupportedError(`${what}: .deb format version '${version.trim()}' is not supported`);
  const control = members.find((m) => /^control\.tar(\.[a-z0-9]+)?$/.test(m.name));
  const data = members.find((m) => /^data\.tar(\.[a-z0-9]+)?$/.test(m.name));
  if (!control || !data) throw new CorruptDataError(`${what}: .deb lacks a control.tar or data.tar member`);
  return { control, data };
}

/**
 * Extracts regular files from a .deb's data.tar, by path (as shown by
 * `dpkg-deb -c`, without the leading "./") or by a predicate on the path.
 * With a path list, reading stops once all are found and a NotFoundError
 * names the package and the first missing path; a predicate reads the whole
 * archive and returns every regular file it accepts.
 */
export async function extractDebFiles(
  bytes: Uint8Array,
  select: readonly string[] | ((path: string) => boolean),
  what = "package",
): Promise<Map<string, Uint8Array>> {
  const { data } = openDeb(bytes, what);
  const paths = typeof select === "function" ? undefined : new Set(select);
  const wanted = paths ? (path: string) => paths.has(path) : (select as (path: string) => boolean);
  const found = new Map<string, Uint8Array>();
  const tar = readTar(decompressStream(data.data, `${what} ${data.name}`), {
    wantData: (e) => wanted(e.path),
  });
  for await (const entry of tar) {
    if (!wanted(entry.path)) continue;
    if (!entry.data) {
      if (!paths) continue;
      throw new UnsupportedError(`${what}: '${entry.path}' is a ${entry.type}, not a regular file`);
    }
    found.set(entry.path, entry.data);
    if (found.size === paths?.size) break;
  }
  const missing = paths && [...paths].find((p) => !found.has(p));
  if (missing !== undefined) throw new NotFoundError(`${what}: '${missing}' is not in ${data.name}`);
  return found;
}
