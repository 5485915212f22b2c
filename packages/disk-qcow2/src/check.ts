/**
 * Consistency check and repair of a qcow2 image, reporting what
 * `qemu-img check --output=json` reports.
 *
 * Spec: QEMU docs/interop/qcow2.txt, "Host cluster management" (a cluster's
 * refcount is the number of references to it from the header, the L1/L2
 * tables of the active state and of every snapshot, the refcount structures
 * and the snapshot table) and QCOW_OFLAG_COPIED (set exactly where the
 * refcount is one).
 *
 * Repair: `leaks` lowers refcounts that are too high; `all` also rebuilds the
 * refcount structures from scratch past the end of the file when a refcount
 * is too low (a corruption), then fixes COPIED flags. The new structures are
 * written before the header points at them.
 *
 * Deviation: counted references saturate at 65535 per cluster to bound
 * memory (two bytes per host cluster), and files of more than 2^27 clusters
 * are not checked (UnsupportedError).
 */
import { UnsupportedError, writeU64BE } from "@backplane/core";
import type { CheckResult } from "@backplane/disk";
import { ClusterType, clusterType, compressedClusters, entryCopied, entryOffset } from "./entries.js";
import type { Qcow2Image } from "./image.js";
import { getRefcount, setRefcount } from "./refcount.js";
import { fixCopiedFlags, readSnapshotL1 } from "./snapshot.js";

/** Two bytes of counts per host cluster: at most 256 MiB of them. */
const MAX_CHECKED_CLUSTERS = 2 ** 27;

interface Scan {
  /** Counted references per host cluster. */
  counts: Uint16Array;
  /** Clusters that are part of the refcount structures (table and blocks). */
  refStructs: number[];
  checkErrors: number;
  /** Corruptions other than refcounts that are too low (bad offsets, COPIED flags). */
  otherCorruptions: number;
  refCorruptions: number;
  leaks: number;
  leakList: [cluster: number, excess: number][];
  allocated: number;
  fragmented: number;
  compressed: number;
  imageEnd: number;
}

async function scan(img: Qcow2Image): Promise<Scan> {
  const cs = img.clusterSize;
  const fileSize = await img.source.size();
  const nClusters = Math.ceil(fileSize / cs);
  if (nClusters > MAX_CHECKED_CLUSTERS) {
    throw new UnsupportedError(`qcow2: checking a file of ${nClusters} clusters needs too much memory`);
  }
  const counts = new Uint16Array(nClusters);
  const s: Scan = {
    counts,
    refStructs: [],
    checkErrors: 0,
    otherCorruptions: 0,
    refCorruptions: 0,
    leaks: 0,
    leakList: [],
    allocated: 0,
    fragmented: 0,
    compressed: 0,
    imageEnd: 0,
  };
  const add = (offset: number, bytes = 1) => {
    for (let c = Math.floor(offset / cs); c <= Math.floor((offset + bytes - 1) / cs); c++) {
      if (c >= nClusters) s.otherCorruptions++;
      else if (counts[c] < 0xffff) counts[c]++;
    }
  };
  const aligned = (off: number) => {
    if (off % cs === 0) return true;
    s.otherCorruptions++;
    return false;
  };

  add(0);
  const walk = async (l1: Uint8Array, active: boolean) => {
    for (let o = 0; o < l1.length; o += 8) {
      let next = -1; // qemu-img counts fragmentation within each L2 table
      const l2Off = entryOffset(l1, o);
      if (!l2Off || !aligned(l2Off)) continue;
      if (l2Off + cs > fileSize) {
        s.otherCorruptions++;
        continue;
      }
      add(l2Off);
      const l2 = await img.l2Cache.get(l2Off);
      for (let at = 0; at < cs; at += img.l2EntrySize) {
        const type = clusterType(l2, at);
        if (type === ClusterType.Compressed) {
          const [first, last] = compressedClusters(l2, at, img.clusterBits);
          add(first * cs, (last - first + 1) * cs);
          if (active) {
            s.allocated++;
            s.compressed++;
            s.fragmented++;
          }
        } else if (type === ClusterType.Normal || type === ClusterType.ZeroAlloc) {
          const host = entryOffset(l2, at);
          if (!aligned(host)) continue;
          add(host);
          if (active) {
            s.allocated++;
            if (next !== -1 && host !== next) s.fragmented++;
            next = host + cs;
          }
        }
      }
    }
  };

  const h = img.header;
  if (h.l1Size) add(h.l1TableOffset, h.l1Size * 8);
  await walk(img.l1, true);
  if (h.nbSnapshots) add(h.snapshotsOffset, img.snapshotTableBytes);
  for (const snap of img.snapshotTable) {
    if (!snap.l1Size || !aligned(snap.l1TableOffset)) continue;
    add(snap.l1TableOffset, snap.l1Size * 8);
    if (snap.l1TableOffset + snap.l1Size * 8 > fileSize) continue;
    await walk(await readSnapshotL1(img, snap), false);
  }
  const rc = img.refcounts;
  for (let c = 0; c < rc.layout.tableClusters; c++) s.refStructs.push(rc.layout.tableOffset / cs + c);
  for (const off of rc.table) if (off && aligned(off)) s.refStructs.push(off / cs);
  for (const c of s.refStructs) add(c * cs);

  // Compare with the stored refcounts, including clusters past the end of the file.
  const blocks = rc.table.length;
  for (let idx = 0; idx < blocks; idx++) {
    const first = idx * rc.entriesPerBlock;
    if (!rc.table[idx] || rc.table[idx] + cs > fileSize) {
      if (rc.table[idx]) s.otherCorruptions++;
      for (let c = first; c < Math.min(first + rc.entriesPerBlock, nClusters); c++) {
        if (counts[c] > 0) s.refCorruptions++;
      }
      continue;
    }
    const block = await rc.cache.get(rc.table[idx]);
    for (let c = first; c < first + rc.entriesPerBlock; c++) {
      const counted = c < nClusters ? counts[c] : 0;
      const stored = getRefcount(block, c - first, rc.order);
      if (stored > counted) {
        s.leaks++;
        s.leakList.push([c, stored - counted]);
      } else if (stored < counted) {
        s.refCorruptions++;
      }
      if (counted > 0) s.imageEnd = (c + 1) * cs;
    }
  }
  for (let c = blocks * rc.entriesPerBlock; c < nClusters; c++) if (counts[c] > 0) s.refCorruptions++;

  // QCOW_OFLAG_COPIED must be set exactly where the (stored) refcount is one.
  for (let o = 0; o < img.l1.length; o += 8) {
    const l2Off = entryOffset(img.l1, o);
    if (!l2Off || l2Off % cs || l2Off + cs > fileSize) continue;
    if (((await rc.get(l2Off / cs)) === 1) !== entryCopied(img.l1, o)) s.otherCorruptions++;
    const l2 = await img.l2Cache.get(l2Off);
    for (let at = 0; at < cs; at += img.l2EntrySize) {
      const type = clusterType(l2, at);
      if (type !== ClusterType.Normal && type !== ClusterType.ZeroAlloc) continue;
      const host = entryOffset(l2, at);
      if (host % cs) continue;
      if (((await rc.get(host / cs)) === 1) !== entryCopied(l2, at)) s.otherCorruptions++;
    }
  }
  return s;
}

/** Writes fresh refcount structures past everything in use, sized for the counts plus themselves. */
async function rebuildRefcounts(img: Qcow2Image, s: Scan): Promise<void> {
  const cs = img.clusterSize;
  const rc = img.refcounts;
  const counts = s.counts.slice();
  for (const c of s.refStructs) if (c < counts.length && counts[c] > 0) counts[c]--;
  let end = counts.length;
  while (end > 0 && counts[end - 1] === 0) end--;
  const start = Math.max(end, Math.ceil((await img.source.size()) / cs));
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = start + tableClusters + blocks;
    const b = Math.ceil(total / rc.entriesPerBlock);
    const t = Math.ceil((b * 8) / cs);
    if (b === blocks && t === tableClusters) break;
    blocks = b;
    tableClusters = t;
  }
  const table = new Array<number>((tableClusters * cs) / 8).fill(0);
  const tableBuf = new Uint8Array(tableClusters * cs);
  const newEnd = start + tableClusters + blocks;
  for (let idx = 0; idx < blocks; idx++) {
    const block = new Uint8Array(cs);
    for (let i = 0; i < rc.entriesPerBlock; i++) {
      const c = idx * rc.entriesPerBlock + i;
      const v = c >= start && c < newEnd ? 1 : c < counts.length ? counts[c] : 0;
      if (v) setRefcount(block, i, rc.order, v);
    }
    const off = (start + tableClusters + idx) * cs;
    await img.source.write(off, block);
    table[idx] = off;
    writeU64BE(tableBuf, idx * 8, BigInt(off));
  }
  await img.source.write(start * cs, tableBuf);
  await img.source.flush();
  const layout = { tableOffset: start * cs, tableClusters };
  img.header.refcountTableOffset = layout.tableOffset;
  img.header.refcountTableClusters = tableClusters;
  await img.writeHeader();
  rc.replace(layout, table);
}

/** Checks (and optionally repairs) `img`; see the module header. */
export async function checkImage(img: Qcow2Image, repair?: "leaks" | "all"): Promise<CheckResult> {
  let s = await scan(img);
  let leaksFixed = 0;
  let corruptionsFixed = 0;
  if (repair) {
    const before = s;
    if (repair === "all" && before.refCorruptions > 0) {
      await rebuildRefcounts(img, before);
      leaksFixed = before.leaks;
      corruptionsFixed = before.refCorruptions;
    } else if (before.leaks > 0) {
      for (const [c, excess] of before.leakList) await img.refcounts.update(c, -excess);
      leaksFixed = before.leaks;
    }
    if (repair === "all") await fixCopiedFlags(img);
    await img.flushMetadata();
    await img.source.flush();
    s = await scan(img);
    if (repair === "all") corruptionsFixed += Math.max(0, before.otherCorruptions - s.otherCorruptions);
  }
  const corruptions = s.refCorruptions + s.otherCorruptions;
  const result: CheckResult = {
    filename: img.source.name,
    format: "qcow2",
    "check-errors": s.checkErrors,
    "image-end-offset": s.imageEnd,
    "total-clusters": Math.ceil(img.header.size / img.clusterSize),
  };
  // Like qemu-img, counters that are zero are left out.
  if (s.allocated) result["allocated-clusters"] = s.allocated;
  if (s.fragmented) result["fragmented-clusters"] = s.fragmented;
  if (s.compressed) result["compressed-clusters"] = s.compressed;
  if (corruptions) result.corruptions = corruptions;
  if (s.leaks) result.leaks = s.leaks;
  if (leaksFixed) result["leaks-fixed"] = leaksFixed;
  if (corruptionsFixed) result["corruptions-fixed"] = corruptionsFixed;
  return result;
}
