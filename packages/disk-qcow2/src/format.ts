/**
 * The qcow2 `DiskFormat`: probe, open and create (like `qemu-img create -f
 * qcow2`), with qemu-img's creation options.
 *
 * Spec: QEMU docs/interop/qcow2.txt, "Header" and "Host cluster management".
 * A new image is laid out as QEMU lays it out: header, refcount table,
 * refcount block, L1 table, each cluster aligned.
 *
 * Options: cluster_size (512..2M, default 64K), compat (0.10/v2, 1.1/v3),
 * refcount_bits (1..64, default 16), lazy_refcounts (on/off),
 * compression_type (zlib/zstd), preallocation (off only), extended_l2 (off
 * only: subclusters are read, not written). Deviation: other options
 * (encryption, data_file, preallocation modes) give UnsupportedError.
 */
import { InvalidArgumentError, readU32BE, UnsupportedError, writeU64BE } from "@backplane/core";
import type {
  ByteSource,
  CreateOptions,
  DiskFormat,
  DiskImage,
  MeasureInput,
  MeasureResult,
  OpenOptions,
} from "@backplane/disk";
import {
  COMPAT_LAZY_REFCOUNTS,
  COMPRESSION_DEFLATE,
  COMPRESSION_ZSTD,
  featureNameTable,
  INCOMPAT_COMPRESSION,
  QCOW_MAGIC,
  type Qcow2Header,
  serializeHeader,
} from "./header.js";
import { Qcow2Image } from "./image.js";
import { setRefcount } from "./refcount.js";

const KNOWN_OPTIONS = new Set([
  "cluster_size",
  "compat",
  "refcount_bits",
  "lazy_refcounts",
  "compression_type",
  "preallocation",
  "extended_l2",
]);

function onOff(v: string | undefined, name: string): boolean {
  if (v === undefined || v === "off" || v === "false") return false;
  if (v === "on" || v === "true") return true;
  throw new InvalidArgumentError(`qcow2: ${name} must be on or off, not ${v}`);
}

/** Parses a size like "64k", "2M" or "512". */
function parseSize(v: string, name: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`qcow2: bad ${name} ${v}`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * unit;
}

/** Builds the header of a new image from `CreateOptions`. */
function newHeader(options: CreateOptions, size: number): Qcow2Header {
  const o = options.options ?? {};
  for (const k of Object.keys(o)) {
    if (!KNOWN_OPTIONS.has(k)) throw new UnsupportedError(`qcow2: creation option ${k} is not supported`);
  }
  const clusterSize = parseSize(o.cluster_size ?? "65536", "cluster_size");
  const clusterBits = Math.log2(clusterSize);
  if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) {
    throw new InvalidArgumentError(
      `qcow2: cluster_size ${clusterSize} must be a power of two from 512 to 2M`,
    );
  }
  const compat = o.compat ?? "1.1";
  let version: 2 | 3;
  if (compat === "1.1" || compat === "v3") version = 3;
  else if (compat === "0.10" || compat === "v2") version = 2;
  else throw new InvalidArgumentError(`qcow2: compat ${compat} must be 0.10 or 1.1`);
  const refcountBits = Number(o.refcount_bits ?? "16");
  const refcountOrder = Math.log2(refcountBits);
  if (!Number.isInteger(refcountOrder) || refcountOrder < 0 || refcountOrder > 6) {
    throw new InvalidArgumentError(
      `qcow2: refcount_bits ${o.refcount_bits} must be a power of two from 1 to 64`,
    );
  }
  if (version === 2 && refcountBits !== 16)
    throw new InvalidArgumentError("qcow2: compat 0.10 needs refcount_bits=16");
  const lazy = onOff(o.lazy_refcounts, "lazy_refcounts");
  if (lazy && version === 2) throw new InvalidArgumentError("qcow2: lazy_refcounts needs compat 1.1");
  if (onOff(o.extended_l2, "extended_l2")) {
    throw new UnsupportedError("qcow2: creating images with extended L2 entries is not supported");
  }
  if ((o.preallocation ?? "off") !== "off") {
    throw new UnsupportedError(`qcow2: preallocation=${o.preallocation} is not supported`);
  }
  const ct = o.compression_type ?? "zlib";
  if (ct !== "zlib" && ct !== "zstd")
    throw new InvalidArgumentError(`qcow2: compression_type ${ct} must be zlib or zstd`);
  if (ct === "zstd" && version === 2)
    throw new InvalidArgumentError("qcow2: compression_type=zstd needs compat 1.1");
  if (!Number.isSafeInteger(size) || size < 0 || size % 512 !== 0) {
    throw new InvalidArgumentError(`qcow2: size ${size} must be a multiple of 512`);
  }
  const compressionType = ct === "zstd" ? COMPRESSION_ZSTD : COMPRESSION_DEFLATE;
  return {
    version,
    backingFileOffset: 0,
    backingFileSize: 0,
    clusterBits,
    size,
    cryptMethod: 0,
    l1Size: Math.ceil(size / clusterSize / (clusterSize / 8)),
    l1TableOffset: 0,
    refcountTableOffset: 0,
    refcountTableClusters: 0,
    nbSnapshots: 0,
    snapshotsOffset: 0,
    incompatibleFeatures: compressionType === COMPRESSION_DEFLATE ? 0n : INCOMPAT_COMPRESSION,
    compatibleFeatures: lazy ? COMPAT_LAZY_REFCOUNTS : 0n,
    autoclearFeatures: 0n,
    refcountOrder,
    headerLength: version === 3 ? 112 : 72,
    compressionType,
    backingFile: options.backingFile,
    backingFormat: options.backingFile !== undefined ? options.backingFormat : undefined,
    featureNames: [],
    extensions: version === 3 ? [featureNameTable()] : [],
  };
}

async function create(source: ByteSource, options: CreateOptions): Promise<DiskImage> {
  let size = options.size;
  if (size === undefined) {
    if (options.backingFile === undefined || !options.openBacking) {
      throw new InvalidArgumentError("qcow2: size is required without an openable backing file");
    }
    const backing = await options.openBacking(options.backingFile, options.backingFormat, source.name);
    size = backing.size;
    await backing.close();
  }
  const h = newHeader(options, size);
  const cs = 2 ** h.clusterBits;
  const entriesPerBlock = (cs * 8) >> h.refcountOrder;
  const l1Clusters = Math.ceil((h.l1Size * 8) / cs);
  // Layout: header | refcount table | refcount blocks | L1 table.
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = 1 + tableClusters + blocks + l1Clusters;
    const b = Math.ceil(total / entriesPerBlock);
    const t = Math.ceil((b * 8) / cs);
    if (b === blocks && t === tableClusters) break;
    blocks = b;
    tableClusters = t;
  }
  h.refcountTableOffset = cs;
  h.refcountTableClusters = tableClusters;
  h.l1TableOffset = l1Clusters ? (1 + tableClusters + blocks) * cs : 0;
  const total = 1 + tableClusters + blocks + l1Clusters;
  const image = new Uint8Array(total * cs);
  image.set(serializeHeader(h, cs));
  for (let idx = 0; idx < blocks; idx++) {
    const blockOff = (1 + tableClusters + idx) * cs;
    writeU64BE(image, cs + idx * 8, BigInt(blockOff));
    const block = image.subarray(blockOff, blockOff + cs);
    for (let i = 0; i < entriesPerBlock && idx * entriesPerBlock + i < total; i++)
      setRefcount(block, i, h.refcountOrder, 1);
  }
  await source.truncate(0);
  await source.write(0, image);
  await source.flush();
  return Qcow2Image.open(source, {
    openBacking: options.openBacking,
    noBacking: !options.openBacking,
    compressor: options.compressor,
  });
}

/** Refcount table and block bytes needed to count `clusters` clusters plus themselves (fixed point). */
function refcountMetadataSize(clusters: number, clusterSize: number, refcountOrder: number): number {
  const perBlock = (clusterSize * 8) >> refcountOrder;
  let blocks = 0;
  let table = 0;
  for (;;) {
    const b = Math.ceil((clusters + table + blocks) / perBlock);
    const t = Math.ceil(b / (clusterSize / 8));
    if (b === blocks && t === table) return (blocks + table) * clusterSize;
    blocks = b;
    table = t;
  }
}

/**
 * Sizes as `qemu-img measure -O qcow2` reports them: the file of a fully
 * allocated image (header, L1, L2 and refcount metadata for every cluster,
 * plus the data), and the same with only the clusters that hold data.
 */
function measure(input: MeasureInput): MeasureResult {
  const h = newHeader({ options: input.options }, Math.ceil(input.size / 512) * 512);
  const cs = 2 ** h.clusterBits;
  const virtual = Math.ceil(input.size / cs) * cs;
  const l2Entries = Math.ceil(virtual / cs / (cs / 8)) * (cs / 8);
  const l1Entries = Math.ceil((l2Entries * 8) / cs / (cs / 8)) * (cs / 8);
  const meta = cs + l2Entries * 8 + l1Entries * 8;
  const full = meta + virtual + refcountMetadataSize((meta + virtual) / cs, cs, h.refcountOrder);
  // Data clusters: every cluster an extent with data touches, counted once.
  let data = 0;
  let counted = -1;
  for (const e of input.extents ?? []) {
    if (!e.data || e.zero || e.length === 0) continue;
    const first = Math.max(Math.floor(e.start / cs), counted + 1);
    const last = Math.floor((e.start + e.length - 1) / cs);
    if (last >= first) data += (last - first + 1) * cs;
    counted = Math.max(counted, last);
  }
  return { required: full - virtual + data, "fully-allocated": full };
}

/** The qcow2 format driver for the `@backplane/disk` registry. */
export const qcow2: DiskFormat = {
  name: "qcow2",
  probe(header: Uint8Array): number {
    return header.length >= 8 && readU32BE(header, 0) === QCOW_MAGIC && [2, 3].includes(readU32BE(header, 4))
      ? 100
      : 0;
  },
  open(source: ByteSource, options?: OpenOptions): Promise<DiskImage> {
    return Qcow2Image.open(source, options);
  },
  create,
  measure,
};
