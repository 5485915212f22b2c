/**
 * L1 and L2 table entries (spec: QEMU docs/interop/qcow2.txt, "Cluster
 * mapping": L1 table entry, L2 table entry, Standard/Compressed Cluster
 * Descriptor, and "Extended L2 Entries" for the subcluster bitmap).
 *
 * 64-bit entries are handled as two 32-bit halves so the hot path needs no
 * bigints.
 */
import { CorruptDataError, readU32BE, writeU32BE } from "@backplane/core";

/** Bit 63 of L1 and L2 entries: refcount is exactly one, writes may go in place. */
export const QCOW_OFLAG_COPIED_HI = 0x8000_0000;
/** Bit 62 of L2 entries: compressed cluster. */
export const QCOW_OFLAG_COMPRESSED_HI = 0x4000_0000;
/** Bit 0 of L2 entries: the cluster reads as zeroes (version 3). */
export const QCOW_OFLAG_ZERO_LO = 1;

/** What an L2 entry maps a guest cluster to. */
export const ClusterType = {
  Unallocated: 0,
  ZeroPlain: 1,
  ZeroAlloc: 2,
  Normal: 3,
  Compressed: 4,
} as const;
export type ClusterType = (typeof ClusterType)[keyof typeof ClusterType];

/** Offset bits 9-55 of an L1 entry or standard L2 descriptor. */
export function entryOffset(b: Uint8Array, o: number): number {
  return (readU32BE(b, o) & 0x00ff_ffff) * 0x1_0000_0000 + ((readU32BE(b, o + 4) & 0xffff_fe00) >>> 0);
}

export function entryCopied(b: Uint8Array, o: number): boolean {
  return (readU32BE(b, o) & QCOW_OFLAG_COPIED_HI) !== 0;
}

/** Writes a standard entry: `offset` (cluster aligned) plus flags. */
export function setEntry(b: Uint8Array, o: number, offset: number, copied: boolean, zero = false): void {
  const hi = Math.floor(offset / 0x1_0000_0000);
  writeU32BE(b, o, (hi | (copied ? QCOW_OFLAG_COPIED_HI : 0)) >>> 0);
  writeU32BE(b, o + 4, ((offset >>> 0) | (zero ? QCOW_OFLAG_ZERO_LO : 0)) >>> 0);
}

/** Sets or clears the COPIED flag of an entry. */
export function setCopied(b: Uint8Array, o: number, copied: boolean): void {
  const hi = readU32BE(b, o);
  writeU32BE(b, o, (copied ? hi | QCOW_OFLAG_COPIED_HI : hi & ~QCOW_OFLAG_COPIED_HI) >>> 0);
}

/** Classifies the standard L2 entry at byte `o` (for extended L2 the subcluster bitmap refines it). */
export function clusterType(b: Uint8Array, o: number): ClusterType {
  const hi = readU32BE(b, o);
  if (hi & QCOW_OFLAG_COMPRESSED_HI) return ClusterType.Compressed;
  const zero = (readU32BE(b, o + 4) & QCOW_OFLAG_ZERO_LO) !== 0;
  const offset = entryOffset(b, o);
  if (zero) return offset ? ClusterType.ZeroAlloc : ClusterType.ZeroPlain;
  return offset ? ClusterType.Normal : ClusterType.Unallocated;
}

/** Host byte range of a compressed cluster descriptor (spec: Compressed Clusters Descriptor). */
export function compressedRange(
  b: Uint8Array,
  o: number,
  clusterBits: number,
): { offset: number; size: number } {
  const e = (BigInt(readU32BE(b, o)) << 32n) | BigInt(readU32BE(b, o + 4));
  const x = BigInt(62 - (clusterBits - 8));
  const offset = Number(e & ((1n << x) - 1n));
  const sectors = Number((e >> x) & ((1n << BigInt(clusterBits - 8)) - 1n));
  return { offset, size: (sectors + 1) * 512 - (offset & 511) };
}

/** Writes a compressed cluster descriptor for `size` bytes at host `offset`. */
export function setCompressedEntry(
  b: Uint8Array,
  o: number,
  offset: number,
  size: number,
  clusterBits: number,
): void {
  const sectors = Math.floor((offset + size - 1) / 512) - Math.floor(offset / 512);
  const x = BigInt(62 - (clusterBits - 8));
  const e = (1n << 62n) | (BigInt(sectors) << x) | BigInt(offset);
  writeU32BE(b, o, Number(e >> 32n));
  writeU32BE(b, o + 4, Number(e & 0xffff_ffffn));
}

/** Host clusters (indices) that a compressed descriptor touches. */
export function compressedClusters(
  b: Uint8Array,
  o: number,
  clusterBits: number,
): [first: number, last: number] {
  const { offset, size } = compressedRange(b, o, clusterBits);
  return [Math.floor(offset / 2 ** clusterBits), Math.floor((offset + size - 1) / 2 ** clusterBits)];
}

/** Rejects a host cluster offset that is not aligned to the cluster size. */
export function checkAligned(offset: number, clusterSize: number, what: string): void {
  if (offset % clusterSize !== 0) {
    throw new CorruptDataError(`qcow2: ${what} offset 0x${offset.toString(16)} is not cluster aligned`);
  }
}
