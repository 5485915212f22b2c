/**
 * @backplane/guest-image — Debian guest images in pure TypeScript: ar(5),
 * POSIX ustar/pax tar and newc cpio archives, Debian Release/Packages
 * indexes, kernel module resolution, and a reproducible BusyBox initramfs.
 * Uint8Array in, Uint8Array out; no host APIs.
 */

export { type AptSource, parseSourcesDeb822, parseSourcesList, primaryMirror } from "./apt-sources.js";
export { type ArMember, readAr } from "./ar.js";
export {
  type Compression,
  decompress,
  decompressStream,
  detectCompression,
  readAll,
  streamOf,
} from "./compression.js";
export { type CpioEntry, type CpioOptions, writeCpio } from "./cpio.js";
export { type DebArchive, extractDebFiles, openDeb } from "./deb.js";
export { type Deb822Paragraph, parseDeb822 } from "./deb822.js";
export {
  findPackage,
  type PackageRecord,
  parseDepends,
  parsePackages,
  parseRelease,
  type Release,
  type ReleaseFile,
  resolveMetapackage,
} from "./debian-repo.js";
export {
  buildInitramfs,
  busyboxApplets,
  INIT_SCRIPT,
  type InitramfsOptions,
  initramfsEntries,
} from "./initramfs.js";
export {
  isModuleTreeFile,
  kernelModuleSource,
  type LoadableModule,
  type ModuleInfo,
  type ModuleSource,
  moduleInfo,
  moduleName,
  readModinfo,
  resolveModules,
} from "./kernel-modules.js";
export { ChecksumMismatchError, sha256Hex, verifySha256 } from "./sha256.js";
export { type ReadTarOptions, readTar, type TarEntry, type TarEntryType } from "./tar.js";
