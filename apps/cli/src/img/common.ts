/** Shared plumbing of the `backplane img` subcommands: output streams, opening images, qemu-style printing. */
import { dirname, isAbsolute, join } from "node:path";
import type { CheckResult, DiskImage, ImageInfo, MapExtent } from "@backplane/disk";
import { formatSize } from "./size.js";

/** Program name at the start of error lines. */
export const PROG = "backplane img";

/** Where a command writes; tests pass string collectors. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Runs `fn` with the image, closing it afterwards even on failure. */
export async function withImage<T>(image: DiskImage, fn: (image: DiskImage) => Promise<T>): Promise<T> {
  try {
    return await fn(image);
  } finally {
    await image.close();
  }
}

const INFO_ORDER = [
  "snapshots",
  "backing-filename-format",
  "virtual-size",
  "filename",
  "cluster-size",
  "format",
  "actual-size",
  "format-specific",
  "full-backing-filename",
  "backing-filename",
];

/** `info()` of an image, completed with what qemu-img adds generically, in qemu-img's key order. */
export async function fullInfo(image: DiskImage): Promise<ImageInfo> {
  const info: ImageInfo = { ...(await image.info()) };
  if (info["actual-size"] === undefined) {
    const actual = await image.source.allocatedSize?.();
    if (actual !== undefined) info["actual-size"] = actual;
  }
  const backing = info["backing-filename"];
  if (backing !== undefined && info["full-backing-filename"] === undefined) {
    info["full-backing-filename"] = isAbsolute(backing) ? backing : join(dirname(image.source.name), backing);
  }
  if (info["dirty-flag"] === undefined) info["dirty-flag"] = false;
  return ordered(info, INFO_ORDER, ["dirty-flag"]) as unknown as ImageInfo;
}

/** Copies `obj` with `first` keys first (in that order), then unknown keys, then `last`. */
function ordered(obj: object, first: readonly string[], last: readonly string[]): Record<string, unknown> {
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of first) if (src[k] !== undefined) out[k] = src[k];
  for (const k of Object.keys(src))
    if (!first.includes(k) && !last.includes(k) && src[k] !== undefined) out[k] = src[k];
  for (const k of last) if (src[k] !== undefined) out[k] = src[k];
  return out;
}

/** JSON with qemu-img's 4-space indentation. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 4)}\n`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** Human `info` output (qemu's bdrv_image_info_dump). */
export function humanInfo(info: ImageInfo): string {
  const lines = [
    `image: ${info.filename}`,
    `file format: ${info.format}`,
    `virtual size: ${formatSize(info["virtual-size"])} (${info["virtual-size"]} bytes)`,
    `disk size: ${info["actual-size"] === undefined ? "unavailable" : formatSize(info["actual-size"])}`,
  ];
  if (info["cluster-size"] !== undefined) lines.push(`cluster_size: ${info["cluster-size"]}`);
  if (info["backing-filename"] !== undefined) {
    const full = info["full-backing-filename"];
    lines.push(
      `backing file: ${info["backing-filename"]}${full && full !== info["backing-filename"] ? ` (actual path: ${full})` : ""}`,
    );
  }
  if (info["backing-filename-format"] !== undefined)
    lines.push(`backing file format: ${info["backing-filename-format"]}`);
  if (info.snapshots?.length) lines.push(humanSnapshots(info.snapshots).trimEnd());
  const fs = info["format-specific"];
  if (fs && Object.keys(fs.data).length > 0) {
    lines.push("Format specific information:");
    dumpObject(fs.data, 1, lines);
  }
  return `${lines.join("\n")}\n`;
}

function dumpObject(data: Record<string, unknown>, depth: number, lines: string[]): void {
  const indent = "    ".repeat(depth);
  for (const [key, value] of Object.entries(data)) {
    const name = key.replace(/-/g, " ");
    if (Array.isArray(value)) {
      lines.push(`${indent}${name}:`);
      value.forEach((item, i) => {
        lines.push(`${indent}    [${i}]:`);
        if (item && typeof item === "object") dumpObject(item as Record<string, unknown>, depth + 2, lines);
        else lines.push(`${indent}        ${String(item)}`);
      });
    } else if (value && typeof value === "object") {
      lines.push(`${indent}${name}:`);
      dumpObject(value as Record<string, unknown>, depth + 1, lines);
    } else {
      lines.push(`${indent}${name}: ${String(value)}`);
    }
  }
}

/** The snapshot table of `qemu-img snapshot -l` and `info`. */
export function humanSnapshots(snapshots: NonNullable<ImageInfo["snapshots"]>): string {
  const rows = [
    "Snapshot list:",
    "ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT",
  ];
  for (const s of snapshots) {
    const d = new Date(s["date-sec"] * 1000);
    const date = `${d.getFullYear()}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)} ${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}`;
    const clock = s["vm-clock-sec"];
    const vmClock = `${pad(Math.floor(clock / 3600), 2)}:${pad(Math.floor(clock / 60) % 60, 2)}:${pad(clock % 60, 2)}.${pad(Math.floor(s["vm-clock-nsec"] / 1e6), 3)}`;
    rows.push(
      `${s.id.padEnd(10)}${s.name.padEnd(17)}${formatSize(s["vm-state-size"]).padStart(8)} ${date} ${vmClock} ${String(s.icount ?? "").padStart(10)}`,
    );
  }
  return `${rows.join("\n")}\n`;
}

/** `qemu-img map --output=json` text: one extent object per line. */
export function jsonMap(extents: readonly MapExtent[]): string {
  const items = extents.map((e) => {
    const o = ordered(e, ["start", "length", "depth", "present", "zero", "data", "compressed", "offset"], []);
    return `{ ${Object.entries(o)
      .map(([k, v]) => `"${k}": ${JSON.stringify(v)}`)
      .join(", ")}}`;
  });
  return `[${items.join(",\n")}]\n`;
}

/** Human `map` table: mapped data ranges with the file they live in. */
export function humanMap(extents: readonly MapExtent[], fileAt: (depth: number) => string): string {
  const hex = (n: number) => (n === 0 ? "0" : `0x${n.toString(16)}`).padEnd(16);
  let text = `${"Offset".padEnd(16)}${"Length".padEnd(16)}${"Mapped to".padEnd(16)}File\n`;
  for (const e of extents) {
    if (e.data && !e.zero && e.offset !== undefined)
      text += `${hex(e.start)}${hex(e.length)}${hex(e.offset)}${fileAt(e.depth)}\n`;
  }
  return text;
}

const CHECK_ORDER = [
  "image-end-offset",
  "total-clusters",
  "check-errors",
  "corruptions",
  "leaks",
  "corruptions-fixed",
  "leaks-fixed",
  "allocated-clusters",
  "filename",
  "format",
  "fragmented-clusters",
  "compressed-clusters",
];

export function jsonCheck(r: CheckResult): string {
  return json(ordered(r, CHECK_ORDER, []));
}

/** Human `check` report (qemu-img.c dump_human_image_check). */
export function humanCheck(r: CheckResult): string {
  let t = "";
  const corruptions = r.corruptions ?? 0;
  const leaks = r.leaks ?? 0;
  if (r["corruptions-fixed"] || r["leaks-fixed"]) {
    t += `The following inconsistencies were found and repaired:\n\n    ${r["leaks-fixed"] ?? 0} leaked clusters\n    ${r["corruptions-fixed"] ?? 0} corruptions\n\nDouble checking the fixed image now...\n`;
  }
  if (corruptions === 0 && leaks === 0 && r["check-errors"] === 0)
    t += "No errors were found on the image.\n";
  else {
    if (corruptions)
      t += `\n${corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`;
    if (leaks)
      t += `\n${leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`;
    if (r["check-errors"]) t += `\n${r["check-errors"]} internal errors have occurred during the check.\n`;
  }
  const total = r["total-clusters"] ?? 0;
  const alloc = r["allocated-clusters"] ?? 0;
  if (total && alloc) {
    const pct = (n: number | undefined) => (((n ?? 0) * 100) / total).toFixed(2);
    const frag = (((r["fragmented-clusters"] ?? 0) * 100) / alloc).toFixed(2);
    const comp = (((r["compressed-clusters"] ?? 0) * 100) / alloc).toFixed(2);
    t += `${alloc}/${total} = ${pct(alloc)}% allocated, ${frag}% fragmented, ${comp}% compressed clusters\n`;
  }
  if (r["image-end-offset"]) t += `Image end offset: ${r["image-end-offset"]}\n`;
  return t;
}

/** Index of the first differing byte of two equal-length buffers, -1 when equal (memcmp first, bytes only when they differ). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length)))
    return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
