/** @backplane/disk — disk-image contracts, format registry, backing chains and overlays. */

export {
  type ChainOpenerOptions,
  chainBlockStatus,
  chainImages,
  chainOpener,
  MAX_CHAIN_DEPTH,
  mergeExtents,
  type ResolvedSource,
  type SourceResolver,
} from "./chain.js";
export { type CopyOptions, type CopyResult, copyImage } from "./copy.js";
export { BackingChainError } from "./errors.js";
export { randomUuid, readBacking, readExact } from "./io.js";
export { MemoryByteSource, type MemoryByteSourceOptions } from "./memory-source.js";
export { CowOverlay, type CowOverlayOptions } from "./overlay.js";
export {
  type AlignedIo,
  checkRange,
  type GranulePiece,
  granules,
  isZero,
  readUnaligned,
  writeUnaligned,
} from "./ranges.js";
export {
  defaultRegistry,
  FormatRegistry,
  findFormat,
  type OpenDiskOptions,
  openDisk,
  PROBE_BYTES,
  registerFormat,
} from "./registry.js";
export { SerialQueue } from "./serial-queue.js";
export type {
  BackingOpener,
  ByteSource,
  CheckResult,
  Compressor,
  CreateOptions,
  DiskFormat,
  DiskImage,
  ImageInfo,
  MapExtent,
  MeasureInput,
  MeasureResult,
  OpenOptions,
  SiblingOpener,
  SnapshotInfo,
} from "./types.js";
