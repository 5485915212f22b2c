/** @backplane/disk — disk-image contracts, format registry, backing chains and overlays. */
export type {
  BackingOpener,
  ByteSource,
  CheckResult,
  CreateOptions,
  DiskFormat,
  DiskImage,
  ImageInfo,
  MapExtent,
  OpenOptions,
  SnapshotInfo,
} from "./types.js";
