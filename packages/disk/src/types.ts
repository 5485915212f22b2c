/**
 * Disk-image contracts: where image bytes come from (`ByteSource`), what a
 * format driver provides (`DiskFormat`) and what an open image offers beyond a
 * plain `BlockBackend` (`DiskImage`: info, allocation map, check, resize).
 * Field names of `ImageInfo`, `MapExtent` and `CheckResult` follow qemu-img's
 * JSON output (QEMU's qapi/block-core.json), so `backplane img` can print them
 * unchanged.
 */
import type { BlockBackend } from "@backplane/core";

/** Random-access bytes of an image file: a host file, a buffer, a URL. */
export interface ByteSource {
  /** Human-readable name (a path or URL), used in messages and to resolve backing files. */
  readonly name: string;
  /** True when writes, truncation and flush are refused. */
  readonly readOnly: boolean;
  /** Current length in bytes. */
  size(): Promise<number>;
  /** Reads into `dest` at `offset`; returns the count read, short only at end of file. */
  read(offset: number, dest: Uint8Array): Promise<number>;
  /** Writes `src` at `offset`, growing the source if needed. */
  write(offset: number, src: Uint8Array): Promise<void>;
  /** Sets the length, zero-filling growth. */
  truncate(size: number): Promise<void>;
  /** Makes completed writes durable. */
  flush(): Promise<void>;
  /** Releases host resources. */
  close(): Promise<void>;
  /** Bytes the source occupies on the host (a sparse file's allocated blocks), when known. */
  allocatedSize?(): Promise<number>;
  /**
   * Which bytes of `[offset, offset + length)` the host stores (`data: true`)
   * and which lie in holes that read as zeroes without being stored
   * (`data: false`; bytes past the end of the source count as a hole): sorted,
   * adjacent extents covering the whole range, at the host's granularity (a
   * file-system block). A sparse host file answers with lseek(2)
   * SEEK_DATA/SEEK_HOLE. `data: true` promises nothing about the contents, and
   * a host that cannot tell reports everything as data; sources without hole
   * information leave the method out.
   */
  allocationMap?(offset: number, length: number): Promise<{ start: number; length: number; data: boolean }[]>;
}

/** Opens the image a backing-file reference names (relative names resolve against `relativeTo`). */
export type BackingOpener = (
  name: string,
  format: string | undefined,
  relativeTo: string,
) => Promise<DiskImage>;

/**
 * Opens a file that is part of the image itself (a VMDK extent named by its
 * descriptor), resolved against `relativeTo` like a backing file. With
 * `create`, the file is created (or emptied) and opened writable.
 */
export type SiblingOpener = (
  name: string,
  relativeTo: string,
  options: { readOnly?: boolean; create?: boolean },
) => Promise<ByteSource>;

/**
 * Compresses cluster payloads for `writeCompressed` (`convert -c`); a host
 * may run it on other threads, and calls may overlap. `deflate` is raw
 * deflate (RFC 1951, no zlib or gzip wrapper), `zstd` one zstd frame (RFC
 * 8878). The compressor may take ownership of `data` (transfer its buffer to
 * another thread): callers must not use it afterwards.
 */
export interface Compressor {
  /** The algorithms it implements; others fall back to the format's own compressor. */
  readonly algorithms: readonly ("deflate" | "zstd")[];
  compress(algorithm: "deflate" | "zstd", data: Uint8Array): Promise<Uint8Array>;
}

/** Options for {@link DiskFormat.open}. */
export interface OpenOptions {
  /** Open without write access. */
  readOnly?: boolean;
  /** Opens backing files; without it, an image with a backing file fails to open. */
  openBacking?: BackingOpener;
  /** Open only this image, not its backing chain (reads of unallocated data give zeroes). */
  noBacking?: boolean;
  /** Opens the other files of a multi-file image (VMDK extents); without it, such images fail to open. */
  openSibling?: SiblingOpener;
  /** Compresses clusters for `writeCompressed` (default: the format's own, on the calling thread). */
  compressor?: Compressor;
}

/** Options for {@link DiskFormat.create}; `options` are qemu-img's `-o` key=value pairs. */
export interface CreateOptions {
  /** Virtual size in bytes (may be taken from the backing file when omitted). */
  size?: number;
  /** Backing file name, as stored in the image. */
  backingFile?: string;
  /** Backing file format, as stored in the image. */
  backingFormat?: string;
  /** Format-specific options (`cluster_size`, `compat`, `subformat`, ...). */
  options?: Record<string, string>;
  /** Used to read the backing file's size when `size` is omitted. */
  openBacking?: BackingOpener;
  /** Creates the other files of a multi-file image (VMDK extents). */
  openSibling?: SiblingOpener;
  /** Compresses clusters for `writeCompressed` of the new image (see {@link OpenOptions.compressor}). */
  compressor?: Compressor;
}

/** One run of the allocation map, as `qemu-img map --output=json` prints it. */
export interface MapExtent {
  start: number;
  length: number;
  /** Depth in the backing chain the data comes from (0 = this image). */
  depth: number;
  /** True when the range holds data (false: unallocated or hole). */
  data: boolean;
  /** True when the range reads as zeroes. */
  zero: boolean;
  /** Host offset in the image file when the data is stored uncompressed there. */
  offset?: number;
  present?: boolean;
  compressed?: boolean;
}

/** Result of a consistency check, with qemu-img check's JSON field names. */
export interface CheckResult {
  filename: string;
  format: string;
  "check-errors": number;
  corruptions?: number;
  leaks?: number;
  "corruptions-fixed"?: number;
  "leaks-fixed"?: number;
  "image-end-offset"?: number;
  "total-clusters"?: number;
  "allocated-clusters"?: number;
  "fragmented-clusters"?: number;
  "compressed-clusters"?: number;
}

/** `qemu-img info --output=json` fields that every format can fill. */
export interface ImageInfo {
  filename: string;
  format: string;
  "virtual-size": number;
  "actual-size"?: number;
  "cluster-size"?: number;
  "dirty-flag"?: boolean;
  "backing-filename"?: string;
  "full-backing-filename"?: string;
  "backing-filename-format"?: string;
  snapshots?: SnapshotInfo[];
  "format-specific"?: { type: string; data: Record<string, unknown> };
}

/** An internal snapshot, as qemu-img lists it. */
export interface SnapshotInfo {
  id: string;
  name: string;
  "vm-state-size": number;
  "date-sec": number;
  "date-nsec": number;
  "vm-clock-sec": number;
  "vm-clock-nsec": number;
  icount?: number;
}

/** An open image: a block device plus the operations `backplane img` needs. */
export interface DiskImage extends BlockBackend {
  /** Format name as qemu-img spells it (`raw`, `qcow2`, `vpc`, `vmdk`, `vdi`). */
  readonly format: string;
  /** The byte source the image lives in. */
  readonly source: ByteSource;
  /** The backing image, if any. */
  readonly backing?: DiskImage;
  info(): Promise<ImageInfo>;
  /**
   * Allocation status of `[offset, offset + length)` in this image alone, as
   * sorted extents covering the range with `depth: 0`. A range this image does
   * not allocate (reads fall through to the backing image) is
   * `data: false, zero: false`; `zero: true` means this image itself makes it
   * read as zeroes. `chainBlockStatus()` resolves the whole chain.
   */
  blockStatus(offset: number, length: number): Promise<MapExtent[]>;
  check?(repair?: "leaks" | "all"): Promise<CheckResult>;
  resize?(size: number, options?: { shrink?: boolean }): Promise<void>;
  /** Writes `src` (whole clusters, cluster-aligned) compressed, for `convert -c`. */
  writeCompressed?(offset: number, src: Uint8Array): Promise<void>;
  /** Deallocates every range, so reads fall through to the backing image (`commit` without `-d`). */
  makeEmpty?(): Promise<void>;
  /** Rewrites the backing-file reference only (`rebase -u`); `undefined` removes it. */
  setBackingFile?(name: string | undefined, format?: string): Promise<void>;
  /** Internal snapshots (`qemu-img snapshot`). */
  listSnapshots?(): Promise<SnapshotInfo[]>;
  /** Creates an internal snapshot; `date` is the host's wall-clock time to record (drivers never read clocks). */
  createSnapshot?(name: string, options?: { dateSec?: number; dateNsec?: number }): Promise<void>;
  applySnapshot?(nameOrId: string): Promise<void>;
  deleteSnapshot?(nameOrId: string): Promise<void>;
}

/** Input of {@link DiskFormat.measure}: the image to be written. */
export interface MeasureInput {
  /** Virtual size in bytes. */
  size: number;
  /** Format of the source image, when measuring one (qemu reports `bitmaps` only for sources that can hold them). */
  sourceFormat?: string;
  /** Ranges of the source that hold data (omitted: measuring an empty image of `size`). */
  extents?: readonly MapExtent[];
  /** Format-specific `-o` options. */
  options?: Record<string, string>;
}

/** `qemu-img measure --output=json` fields. */
export interface MeasureResult {
  required: number;
  "fully-allocated": number;
  bitmaps?: number;
}

/** A format driver, registered with the `openDisk()` registry. */
export interface DiskFormat {
  /** Format name as qemu-img spells it. */
  readonly name: string;
  /** Other names accepted on the command line (`vhd` for `vpc`). */
  readonly aliases?: readonly string[];
  /** How surely the first bytes of a file are this format: 0 (no) to 100 (magic matched). */
  probe(header: Uint8Array, fileSize: number): number;
  open(source: ByteSource, options?: OpenOptions): Promise<DiskImage>;
  create(source: ByteSource, options: CreateOptions): Promise<DiskImage>;
  /** File size a new image would need (`qemu-img measure`). */
  measure?(input: MeasureInput): MeasureResult;
}
