/**
 * Internal snapshots (spec: QEMU docs/interop/qcow2.txt, "Snapshots" and
 * "Host cluster management"): a snapshot is a copy of the active L1 table
 * plus one more reference to every L2 table and data cluster reachable from
 * it, so shared clusters lose QCOW_OFLAG_COPIED and are copied on write.
 * Applying a snapshot references its tree and releases the active one;
 * deleting releases the snapshot's tree and its L1 copy.
 *
 * Deviation: refcounts and COPIED flags change in separate writes, as in
 * QEMU, so a crash inside one of these operations can leave a state that
 * `check("all")` repairs. The VM state (vm_state_size) is never written.
 */
import { CorruptDataError, InvalidArgumentError, NotFoundError, UnsupportedError } from "@backplane/core";
import type { SnapshotInfo } from "@backplane/disk";
import {
  ClusterType,
  clusterType,
  compressedClusters,
  entryCopied,
  entryOffset,
  setCopied,
} from "./entries.js";
import { type SnapshotEntry, serializeSnapshots } from "./header.js";
import type { Qcow2Image } from "./image.js";

/** Snapshot table entries as qemu-img lists them. */
export function snapshotInfos(table: readonly SnapshotEntry[]): SnapshotInfo[] {
  return table.map((s) => {
    const info: SnapshotInfo = {
      id: s.id,
      name: s.name,
      "vm-state-size": s.vmStateSize,
      "date-sec": s.dateSec,
      "date-nsec": s.dateNsec,
      "vm-clock-sec": Number(s.vmClockNsec / 1_000_000_000n),
      "vm-clock-nsec": Number(s.vmClockNsec % 1_000_000_000n),
    };
    if (s.icount !== undefined && s.icount !== 0xffff_ffff_ffff_ffffn) info.icount = Number(s.icount);
    return info;
  });
}

export function findSnapshot(img: Qcow2Image, nameOrId: string): SnapshotEntry {
  const s =
    img.snapshotTable.find((e) => e.id === nameOrId) ?? img.snapshotTable.find((e) => e.name === nameOrId);
  if (!s) throw new NotFoundError(`qcow2: no snapshot ${nameOrId} in ${img.source.name}`);
  return s;
}

/**
 * Creates an internal snapshot of the current disk contents (like
 * `qemu-img snapshot -c`). `dateSec`/`dateNsec` default to 0 because the
 * library reads no clock; pass the host time to record one.
 */
export async function createSnapshot(
  img: Qcow2Image,
  name: string,
  options: { dateSec?: number; dateNsec?: number },
): Promise<void> {
  if (img.snapshotTable.some((s) => s.name === name)) {
    throw new InvalidArgumentError(`qcow2: snapshot ${name} already exists`);
  }
  await img.flushMetadata();
  const cs = img.clusterSize;
  await checkRoomForReference(img, img.l1);
  // Every cluster reachable from the active L1 gains a reference; none may be written in place any more.
  await updateTreeRefcounts(img, img.l1, 1);
  await fixCopiedFlags(img);
  await img.flushMetadata();
  const l1Clusters = Math.ceil(img.l1.length / cs);
  const l1Off = l1Clusters ? await img.refcounts.alloc(l1Clusters) : 0;
  if (l1Clusters) {
    const copy = new Uint8Array(l1Clusters * cs);
    copy.set(img.l1);
    await img.source.write(l1Off, copy);
  }
  // Like QEMU: one more than the largest numeric id in use.
  const id = 1 + img.snapshotTable.reduce((m, s) => Math.max(m, Number.parseInt(s.id, 10) || 0), 0);
  const entry: SnapshotEntry = {
    l1TableOffset: l1Off,
    l1Size: img.header.l1Size,
    id: String(id),
    name,
    dateSec: options.dateSec ?? 0,
    dateNsec: options.dateNsec ?? 0,
    vmClockNsec: 0n,
    vmStateSize: 0,
    diskSize: img.header.size,
    extraRest: new Uint8Array(0),
  };
  await writeSnapshotTable(img, [...img.snapshotTable, entry]);
  await img.source.flush();
}

/** Reverts the disk to a snapshot (like `qemu-img snapshot -a`). */
export async function applySnapshot(img: Qcow2Image, snap: SnapshotEntry): Promise<void> {
  await img.flushMetadata();
  const snapL1 = await readSnapshotL1(img, snap);
  await checkRoomForReference(img, snapL1);
  await updateTreeRefcounts(img, snapL1, 1);
  await img.refcounts.cache.flush();
  const oldL1 = img.l1.slice();
  const entries = Math.max(
    snap.l1Size,
    Math.ceil((snap.diskSize ?? img.header.size) / img.clusterSize / img.l2Entries),
  );
  if (entries > img.header.l1Size) await img.growL1(entries);
  img.l1.fill(0);
  img.l1.set(snapL1);
  img.markL1Dirty(0);
  img.markL1Dirty(img.header.l1Size - 1);
  await img.flushMetadata();
  if (snap.diskSize !== undefined && snap.diskSize !== img.header.size) {
    img.header.size = snap.diskSize;
    await img.writeHeader();
  }
  await updateTreeRefcounts(img, oldL1, -1);
  await fixCopiedFlags(img);
  await img.flushMetadata();
  await img.source.flush();
}

/** Deletes a snapshot and releases the clusters only it used (like `qemu-img snapshot -d`). */
export async function deleteSnapshot(img: Qcow2Image, snap: SnapshotEntry): Promise<void> {
  await img.flushMetadata();
  const snapL1 = await readSnapshotL1(img, snap);
  await writeSnapshotTable(
    img,
    img.snapshotTable.filter((s) => s !== snap),
  );
  await img.flushMetadata();
  await updateTreeRefcounts(img, snapL1, -1);
  const l1Clusters = Math.ceil((snap.l1Size * 8) / img.clusterSize);
  for (let i = 0; i < l1Clusters; i++)
    await img.refcounts.update(snap.l1TableOffset / img.clusterSize + i, -1);
  await fixCopiedFlags(img);
  await img.flushMetadata();
  await img.source.flush();
}

/** Reads a snapshot's L1 table. */
export async function readSnapshotL1(img: Qcow2Image, snap: SnapshotEntry): Promise<Uint8Array> {
  const buf = new Uint8Array(snap.l1Size * 8);
  if (buf.length && (await img.source.read(snap.l1TableOffset, buf)) !== buf.length) {
    throw new CorruptDataError(`qcow2: L1 table of snapshot ${snap.id} is outside the file`);
  }
  return buf;
}

/** Writes a new snapshot table, points the header at it and frees the old one. */
async function writeSnapshotTable(img: Qcow2Image, entries: SnapshotEntry[]): Promise<void> {
  const cs = img.clusterSize;
  const bytes = serializeSnapshots(entries);
  const clusters = Math.ceil(bytes.length / cs);
  const off = clusters ? await img.refcounts.alloc(clusters) : 0;
  if (clusters) {
    await img.refcounts.cache.flush();
    await img.source.write(off, bytes);
    await img.source.flush(); // barrier: the new snapshot table before the header points at it
  }
  const oldOff = img.header.snapshotsOffset;
  const oldClusters = Math.ceil(img.snapshotTableBytes / cs);
  img.header.nbSnapshots = entries.length;
  img.header.snapshotsOffset = off;
  await img.writeHeader();
  img.snapshotTable = entries;
  img.snapshotTableBytes = bytes.length;
  if (oldClusters) img.scheduleFree(oldOff / cs, oldClusters);
}

/** Throws before anything changes if one more reference to `l1`'s clusters would overflow the refcount width. */
async function checkRoomForReference(img: Qcow2Image, l1: Uint8Array): Promise<void> {
  const max = img.refcounts.maxRefcount;
  if (max >= 0xffff) return; // 16 bits and wider: no realistic snapshot count reaches the limit
  const cs = img.clusterSize;
  const full = async (c: number) => {
    if ((await img.refcounts.get(c)) >= max) {
      throw new UnsupportedError(
        `qcow2: refcount_bits=${2 ** img.refcounts.order} leaves no room for another reference`,
      );
    }
  };
  for (let o = 0; o < l1.length; o += 8) {
    const l2Off = entryOffset(l1, o);
    if (!l2Off) continue;
    await full(l2Off / cs);
    const l2 = await img.l2Cache.get(l2Off);
    for (let at = 0; at < cs; at += img.l2EntrySize) {
      const type = clusterType(l2, at);
      if (type === ClusterType.Normal || type === ClusterType.ZeroAlloc) await full(entryOffset(l2, at) / cs);
      else if (type === ClusterType.Compressed) {
        const [first, last] = compressedClusters(l2, at, img.clusterBits);
        for (let c = first; c <= last; c++) await full(c);
      }
    }
  }
}

/** Adds `delta` to the refcount of every L2 table and data cluster reachable from `l1`. */
async function updateTreeRefcounts(img: Qcow2Image, l1: Uint8Array, delta: number): Promise<void> {
  const cs = img.clusterSize;
  for (let o = 0; o < l1.length; o += 8) {
    const l2Off = entryOffset(l1, o);
    if (!l2Off) continue;
    const l2 = await img.l2Cache.get(l2Off);
    for (let at = 0; at < cs; at += img.l2EntrySize) {
      const type = clusterType(l2, at);
      if (type === ClusterType.Normal || type === ClusterType.ZeroAlloc) {
        await img.refcounts.update(entryOffset(l2, at) / cs, delta);
      } else if (type === ClusterType.Compressed) {
        const [first, last] = compressedClusters(l2, at, img.clusterBits);
        for (let c = first; c <= last; c++) await img.refcounts.update(c, delta);
      }
    }
    if ((await img.refcounts.update(l2Off / cs, delta)) === 0) img.l2Cache.drop(l2Off);
  }
}

/** Sets QCOW_OFLAG_COPIED on active L1/L2 entries exactly where the refcount is one; returns how many changed. */
export async function fixCopiedFlags(img: Qcow2Image): Promise<number> {
  const cs = img.clusterSize;
  let fixed = 0;
  for (let l1i = 0; l1i < img.header.l1Size; l1i++) {
    const o = l1i * 8;
    const l2Off = entryOffset(img.l1, o);
    if (!l2Off) continue;
    const one = (await img.refcounts.get(l2Off / cs)) === 1;
    if (entryCopied(img.l1, o) !== one) {
      setCopied(img.l1, o, one);
      img.markL1Dirty(l1i);
      fixed++;
    }
    const l2 = await img.l2Cache.get(l2Off);
    let changed = false;
    for (let at = 0; at < cs; at += img.l2EntrySize) {
      const type = clusterType(l2, at);
      if (type !== ClusterType.Normal && type !== ClusterType.ZeroAlloc) continue;
      const dataOne = (await img.refcounts.get(entryOffset(l2, at) / cs)) === 1;
      if (entryCopied(l2, at) !== dataOne) {
        setCopied(l2, at, dataOne);
        changed = true;
        fixed++;
      }
    }
    if (changed) await img.l2Cache.markDirty(l2Off, l2);
  }
  return fixed;
}
