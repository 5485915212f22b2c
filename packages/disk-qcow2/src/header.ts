/**
 * The qcow2 image header, its extensions and the snapshot table entry layout.
 *
 * Spec: QEMU docs/interop/qcow2.txt, "Header" (fields of versions 2 and 3),
 * "Header extensions" (backing file format name, feature name table) and
 * "Snapshots". All integers are big-endian.
 *
 * Header extensions other than the backing file format name are kept as raw
 * bytes and written back unchanged when the header cluster is rewritten
 * (`serializeHeader`); the bitmaps, full disk encryption and external data
 * file extensions are not interpreted.
 */
import {
  CorruptDataError,
  InvalidArgumentError,
  readSafeU64BE,
  readU16BE,
  readU32BE,
  readU64BE,
  UnsupportedError,
  writeU16BE,
  writeU32BE,
  writeU64BE,
} from "@backplane/core";

/** "QFI\xfb" */
export const QCOW_MAGIC = 0x514649fb;

/** Incompatible feature bits (spec: Header, bytes 72-79). */
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_DATA_FILE = 1n << 2n;
export const INCOMPAT_COMPRESSION = 1n << 3n;
export const INCOMPAT_EXTL2 = 1n << 4n;
/** Compatible feature bit 0: lazy refcounts (bytes 80-87). */
export const COMPAT_LAZY_REFCOUNTS = 1n << 0n;

/** Header extension types (spec: Header extensions). */
export const EXT_END = 0;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_NAME_TABLE = 0x6803f857;

/** compression_type values (spec: Header, byte 104). */
export const COMPRESSION_DEFLATE = 0;
export const COMPRESSION_ZSTD = 1;

/** Limits taken from the spec's constraints and QEMU's sanity limits, to bound memory on corrupt input. */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;
export const MAX_BACKING_NAME = 1023;
const MAX_EXTENSION_AREA = 2 * 1024 * 1024;

export interface FeatureName {
  /** 0 = incompatible, 1 = compatible, 2 = autoclear */
  type: number;
  bit: number;
  name: string;
}

export interface Qcow2Header {
  version: 2 | 3;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  compressionType: number;
  /** From the backing file format name extension. */
  backingFormat?: string;
  /** The backing file name stored at backing_file_offset. */
  backingFile?: string;
  featureNames: FeatureName[];
  /** Every header extension except the backing file format name, verbatim. */
  extensions: HeaderExtension[];
}

export interface HeaderExtension {
  type: number;
  data: Uint8Array;
}

/** Reads a big-endian u64 that must fit a JS number, or reports `what` as corrupt. */
export function readOffset(b: Uint8Array, o: number, what: string): number {
  // Tables hold thousands of entries: plain numbers unless the value is out of range.
  if (readU32BE(b, o) > 0x1fffff) {
    throw new CorruptDataError(`qcow2: ${what} 0x${readU64BE(b, o).toString(16)} is out of range`);
  }
  return readSafeU64BE(b, o);
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Names of the set bits of `bits`, using the image's feature name table where it has one. */
function featureBitNames(bits: bigint, type: number, names: FeatureName[]): string {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (!(bits & (1n << BigInt(bit)))) continue;
    const named = names.find((f) => f.type === type && f.bit === bit);
    out.push(named ? `bit ${bit} (${named.name})` : `bit ${bit}`);
  }
  return out.join(", ");
}

/**
 * Parses and validates the header in `buf` (the first cluster of the image, or
 * at least its first 4 KiB when the cluster is smaller than that is not yet
 * known). `fileSize` bounds table offsets.
 */
export function parseHeader(buf: Uint8Array, fileSize: number): Qcow2Header {
  if (buf.length < 72) throw new CorruptDataError("qcow2: file too short for a header");
  if (readU32BE(buf, 0) !== QCOW_MAGIC) throw new CorruptDataError("qcow2: bad magic");
  const version = readU32BE(buf, 4);
  if (version !== 2 && version !== 3) {
    throw new UnsupportedError(`qcow2: version ${version} is not supported (2 and 3 are)`);
  }
  const clusterBits = readU32BE(buf, 20);
  if (clusterBits < 9 || clusterBits > 21) {
    throw new CorruptDataError(`qcow2: cluster_bits ${clusterBits} outside 9..21`);
  }
  const clusterSize = 2 ** clusterBits;
  const h: Qcow2Header = {
    version,
    backingFileOffset: readOffset(buf, 8, "backing_file_offset"),
    backingFileSize: readU32BE(buf, 16),
    clusterBits,
    size: readOffset(buf, 24, "size"),
    cryptMethod: readU32BE(buf, 32),
    l1Size: readU32BE(buf, 36),
    l1TableOffset: readOffset(buf, 40, "l1_table_offset"),
    refcountTableOffset: readOffset(buf, 48, "refcount_table_offset"),
    refcountTableClusters: readU32BE(buf, 56),
    nbSnapshots: readU32BE(buf, 60),
    snapshotsOffset: readOffset(buf, 64, "snapshots_offset"),
    incompatibleFeatures: 0n,
    compatibleFeatures: 0n,
    autoclearFeatures: 0n,
    refcountOrder: 4,
    headerLength: 72,
    compressionType: COMPRESSION_DEFLATE,
    featureNames: [],
    extensions: [],
  };
  if (version === 3) {
    if (buf.length < 104) throw new CorruptDataError("qcow2: file too short for a version 3 header");
    h.incompatibleFeatures = readU64BE(buf, 72);
    h.compatibleFeatures = readU64BE(buf, 80);
    h.autoclearFeatures = readU64BE(buf, 88);
    h.refcountOrder = readU32BE(buf, 96);
    h.headerLength = readU32BE(buf, 100);
    if (h.headerLength < 104 || h.headerLength > Math.min(clusterSize, buf.length)) {
      throw new CorruptDataError(`qcow2: header_length ${h.headerLength} out of range`);
    }
    if (h.headerLength > 104) h.compressionType = buf[104];
  }
  if (h.refcountOrder > 6) throw new CorruptDataError(`qcow2: refcount_order ${h.refcountOrder} exceeds 6`);
  if (h.cryptMethod !== 0) throw new UnsupportedError("qcow2: encrypted images are not supported");

  parseExtensions(h, buf, clusterSize);

  const unknownIncompat =
    h.incompatibleFeatures &
    ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2);
  if (unknownIncompat) {
    throw new UnsupportedError(
      `qcow2: unsupported incompatible features: ${featureBitNames(unknownIncompat, 0, h.featureNames)}`,
    );
  }
  if (h.incompatibleFeatures & INCOMPAT_DATA_FILE) {
    throw new UnsupportedError("qcow2: unsupported incompatible features: bit 2 (external data file)");
  }
  if (h.compressionType !== COMPRESSION_DEFLATE && h.compressionType !== COMPRESSION_ZSTD) {
    throw new UnsupportedError(`qcow2: unknown compression_type ${h.compressionType}`);
  }
  if (
    (h.compressionType !== COMPRESSION_DEFLATE) !==
    Boolean(h.incompatibleFeatures & INCOMPAT_COMPRESSION)
  ) {
    throw new CorruptDataError("qcow2: compression_type and the compression type feature bit disagree");
  }
  if (h.incompatibleFeatures & INCOMPAT_EXTL2 && clusterBits < 14) {
    throw new CorruptDataError("qcow2: extended L2 entries need clusters of at least 16 KiB");
  }

  // Table placement: aligned, inside the file, bounded in size.
  const align = (off: number, what: string) => {
    if (off % clusterSize !== 0)
      throw new CorruptDataError(`qcow2: ${what} 0x${off.toString(16)} is not cluster aligned`);
  };
  const inFile = (off: number, len: number, what: string) => {
    if (off + len > fileSize) throw new CorruptDataError(`qcow2: ${what} extends past the end of the file`);
  };
  if (h.l1Size * 8 > MAX_L1_BYTES)
    throw new UnsupportedError(`qcow2: L1 table of ${h.l1Size} entries is too large`);
  const l2Entries = clusterSize / (h.incompatibleFeatures & INCOMPAT_EXTL2 ? 16 : 8);
  const neededL1 = Math.ceil(h.size / clusterSize / l2Entries);
  if (h.l1Size < neededL1) {
    throw new CorruptDataError(`qcow2: l1_size ${h.l1Size} too small for virtual size ${h.size}`);
  }
  if (h.l1Size > 0) {
    align(h.l1TableOffset, "l1_table_offset");
    if (h.l1TableOffset === 0) throw new CorruptDataError("qcow2: L1 table overlaps the header");
    inFile(h.l1TableOffset, h.l1Size * 8, "L1 table");
  }
  align(h.refcountTableOffset, "refcount_table_offset");
  if (h.refcountTableClusters === 0 || h.refcountTableOffset === 0) {
    throw new CorruptDataError("qcow2: refcount table missing or overlapping the header");
  }
  if (h.refcountTableClusters * clusterSize > MAX_REFTABLE_BYTES) {
    throw new CorruptDataError(`qcow2: refcount table of ${h.refcountTableClusters} clusters is too large`);
  }
  inFile(h.refcountTableOffset, h.refcountTableClusters * clusterSize, "refcount table");
  if (h.nbSnapshots > MAX_SNAPSHOTS)
    throw new CorruptDataError(`qcow2: ${h.nbSnapshots} snapshots is too many`);
  if (h.nbSnapshots > 0) {
    align(h.snapshotsOffset, "snapshots_offset");
    if (h.snapshotsOffset === 0) throw new CorruptDataError("qcow2: snapshot table overlaps the header");
    inFile(h.snapshotsOffset, 1, "snapshot table");
  }
  const overlaps = (a: number, al: number, b: number, bl: number) => a < b + bl && b < a + al;
  if (
    h.l1Size > 0 &&
    overlaps(h.l1TableOffset, h.l1Size * 8, h.refcountTableOffset, h.refcountTableClusters * clusterSize)
  ) {
    throw new CorruptDataError("qcow2: L1 table and refcount table overlap");
  }

  if (h.backingFileOffset !== 0) {
    if (h.backingFileSize > MAX_BACKING_NAME || h.backingFileSize === 0) {
      throw new CorruptDataError(`qcow2: backing file name length ${h.backingFileSize} out of range`);
    }
    if (h.backingFileOffset + h.backingFileSize > Math.min(clusterSize, buf.length)) {
      throw new CorruptDataError("qcow2: backing file name outside the header cluster");
    }
    h.backingFile = decoder.decode(
      buf.subarray(h.backingFileOffset, h.backingFileOffset + h.backingFileSize),
    );
  }
  return h;
}

function parseExtensions(h: Qcow2Header, buf: Uint8Array, clusterSize: number): void {
  let off = h.headerLength;
  // Version 2 images have extensions too (spec: they start right after the 72-byte header).
  const limit = Math.min(buf.length, clusterSize, MAX_EXTENSION_AREA);
  while (off + 8 <= limit) {
    const type = readU32BE(buf, off);
    const len = readU32BE(buf, off + 4);
    if (type === EXT_END) return;
    const data = off + 8;
    if (data + len > limit)
      throw new CorruptDataError("qcow2: header extension extends past the header cluster");
    if (type === EXT_BACKING_FORMAT) {
      h.backingFormat = decoder.decode(buf.subarray(data, data + len));
    } else {
      h.extensions.push({ type, data: buf.slice(data, data + len) });
    }
    if (type === EXT_FEATURE_NAME_TABLE) {
      for (let e = data; e + 48 <= data + len; e += 48) {
        const raw = buf.subarray(e + 2, e + 48);
        const nul = raw.indexOf(0);
        h.featureNames.push({
          type: buf[e],
          bit: buf[e + 1],
          name: decoder.decode(nul < 0 ? raw : raw.subarray(0, nul)),
        });
      }
    }
    off = data + Math.ceil(len / 8) * 8;
  }
}

/** The feature name table this driver writes (spec: Feature name table). */
export const FEATURE_NAMES: FeatureName[] = [
  { type: 0, bit: 0, name: "dirty bit" },
  { type: 0, bit: 1, name: "corrupt bit" },
  { type: 0, bit: 2, name: "external data file" },
  { type: 0, bit: 3, name: "compression type" },
  { type: 0, bit: 4, name: "extended L2 entries" },
  { type: 1, bit: 0, name: "lazy refcounts" },
];

/** Writes the fixed header fields of `h` into `buf` (bytes 0..headerLength). */
export function writeHeaderFields(h: Qcow2Header, buf: Uint8Array): void {
  writeU32BE(buf, 0, QCOW_MAGIC);
  writeU32BE(buf, 4, h.version);
  writeU64BE(buf, 8, BigInt(h.backingFileOffset));
  writeU32BE(buf, 16, h.backingFileSize);
  writeU32BE(buf, 20, h.clusterBits);
  writeU64BE(buf, 24, BigInt(h.size));
  writeU32BE(buf, 32, h.cryptMethod);
  writeU32BE(buf, 36, h.l1Size);
  writeU64BE(buf, 40, BigInt(h.l1TableOffset));
  writeU64BE(buf, 48, BigInt(h.refcountTableOffset));
  writeU32BE(buf, 56, h.refcountTableClusters);
  writeU32BE(buf, 60, h.nbSnapshots);
  writeU64BE(buf, 64, BigInt(h.snapshotsOffset));
  if (h.version === 3) {
    writeU64BE(buf, 72, h.incompatibleFeatures);
    writeU64BE(buf, 80, h.compatibleFeatures);
    writeU64BE(buf, 88, h.autoclearFeatures);
    writeU32BE(buf, 96, h.refcountOrder);
    writeU32BE(buf, 100, h.headerLength);
    if (h.headerLength > 104) buf[104] = h.compressionType;
  }
}

/** The feature name table extension this driver writes into new version 3 images. */
export function featureNameTable(): HeaderExtension {
  const data = new Uint8Array(FEATURE_NAMES.length * 48);
  FEATURE_NAMES.forEach((f, i) => {
    data[i * 48] = f.type;
    data[i * 48 + 1] = f.bit;
    data.set(encoder.encode(f.name), i * 48 + 2);
  });
  return { type: EXT_FEATURE_NAME_TABLE, data };
}

/**
 * Serializes a complete header cluster: the fixed fields (over `fixed`, the
 * image's current header bytes, when given), the backing format extension,
 * `h.extensions`, then the backing file name (whose offset and size are
 * filled into `h`).
 */
export function serializeHeader(h: Qcow2Header, clusterSize: number, fixed?: Uint8Array): Uint8Array {
  const buf = new Uint8Array(clusterSize);
  if (fixed) buf.set(fixed.subarray(0, h.headerLength));
  let off = h.headerLength;
  const tooBig = () =>
    new UnsupportedError("qcow2: header, extensions and backing file name do not fit in one cluster");
  const ext = (type: number, data: Uint8Array) => {
    if (off + 16 + data.length > clusterSize) throw tooBig();
    writeU32BE(buf, off, type);
    writeU32BE(buf, off + 4, data.length);
    buf.set(data, off + 8);
    off += 8 + Math.ceil(data.length / 8) * 8;
  };
  if (h.backingFormat !== undefined) ext(EXT_BACKING_FORMAT, encoder.encode(h.backingFormat));
  for (const e of h.extensions) ext(e.type, e.data);
  off += 8; // end-of-extensions marker (zeroes)
  h.backingFileOffset = 0;
  h.backingFileSize = 0;
  if (h.backingFile !== undefined) {
    const name = encoder.encode(h.backingFile);
    if (name.length > MAX_BACKING_NAME || name.length === 0) {
      throw new InvalidArgumentError("qcow2: backing file name must be 1 to 1023 bytes long");
    }
    if (off + name.length > clusterSize) throw tooBig();
    buf.set(name, off);
    h.backingFileOffset = off;
    h.backingFileSize = name.length;
  }
  writeHeaderFields(h, buf);
  return buf;
}

/** One entry of the snapshot table (spec: Snapshots). */
export interface SnapshotEntry {
  l1TableOffset: number;
  l1Size: number;
  id: string;
  name: string;
  dateSec: number;
  dateNsec: number;
  vmClockNsec: bigint;
  vmStateSize: number;
  /** Virtual disk size when the snapshot was taken (extra data, version 3). */
  diskSize?: number;
  icount?: bigint;
  /** Extra data beyond the fields above, kept verbatim. */
  extraRest: Uint8Array;
}

/** Parses `count` snapshot table entries from `buf`. */
export function parseSnapshots(
  buf: Uint8Array,
  count: number,
  clusterSize: number,
): { entries: SnapshotEntry[]; bytes: number } {
  const out: SnapshotEntry[] = [];
  let off = 0;
  const need = (n: number) => {
    if (off + n > buf.length) throw new CorruptDataError("qcow2: snapshot table is truncated");
  };
  for (let i = 0; i < count; i++) {
    need(40);
    const l1TableOffset = readOffset(buf, off, "snapshot l1_table_offset");
    const l1Size = readU32BE(buf, off + 8);
    if (l1Size * 8 > MAX_L1_BYTES)
      throw new CorruptDataError(`qcow2: snapshot L1 table of ${l1Size} entries is too large`);
    if (l1TableOffset % clusterSize !== 0)
      throw new CorruptDataError("qcow2: snapshot L1 table is not cluster aligned");
    const idSize = readU16BE(buf, off + 12);
    const nameSize = readU16BE(buf, off + 14);
    const extraSize = readU32BE(buf, off + 36);
    if (extraSize > 1024)
      throw new CorruptDataError(`qcow2: snapshot extra data of ${extraSize} bytes is too large`);
    need(40 + extraSize + idSize + nameSize);
    const e: SnapshotEntry = {
      l1TableOffset,
      l1Size,
      dateSec: readU32BE(buf, off + 16),
      dateNsec: readU32BE(buf, off + 20),
      vmClockNsec: readU64BE(buf, off + 24),
      vmStateSize: readU32BE(buf, off + 32),
      id: "",
      name: "",
      extraRest: new Uint8Array(0),
    };
    const extra = off + 40;
    if (extraSize >= 8) e.vmStateSize = readOffset(buf, extra, "snapshot vm_state_size_large");
    if (extraSize >= 16) e.diskSize = readOffset(buf, extra + 8, "snapshot disk_size");
    if (extraSize >= 24) e.icount = readU64BE(buf, extra + 16);
    if (extraSize > 24) e.extraRest = buf.slice(extra + 24, extra + extraSize);
    const ids = extra + extraSize;
    e.id = decoder.decode(buf.subarray(ids, ids + idSize));
    e.name = decoder.decode(buf.subarray(ids + idSize, ids + idSize + nameSize));
    off = Math.ceil((ids + idSize + nameSize) / 8) * 8;
    out.push(e);
  }
  return { entries: out, bytes: off };
}

/** Serializes snapshot table entries (version 3 layout with 24 bytes of extra data). */
export function serializeSnapshots(entries: SnapshotEntry[]): Uint8Array {
  const parts = entries.map((e) => {
    const id = encoder.encode(e.id);
    const name = encoder.encode(e.name);
    const extraSize = 24 + e.extraRest.length;
    const len = Math.ceil((40 + extraSize + id.length + name.length) / 8) * 8;
    const b = new Uint8Array(len);
    writeU64BE(b, 0, BigInt(e.l1TableOffset));
    writeU32BE(b, 8, e.l1Size);
    writeU16BE(b, 12, id.length);
    writeU16BE(b, 14, name.length);
    writeU32BE(b, 16, e.dateSec);
    writeU32BE(b, 20, e.dateNsec);
    writeU64BE(b, 24, e.vmClockNsec);
    writeU32BE(b, 32, Math.min(e.vmStateSize, 0xffffffff));
    writeU32BE(b, 36, extraSize);
    writeU64BE(b, 40, BigInt(e.vmStateSize));
    writeU64BE(b, 48, BigInt(e.diskSize ?? 0));
    writeU64BE(b, 56, e.icount ?? 0xffffffffffffffffn);
    b.set(e.extraRest, 64);
    b.set(id, 40 + extraSize);
    b.set(name, 40 + extraSize + id.length);
    return b;
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
