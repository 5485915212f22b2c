/**
 * The VMDK descriptor (VMware Virtual Disk Format 5.0 technical note, "The
 * Descriptor File"): header lines (version, CID, parentCID, createType,
 * parentFileNameHint), extent descriptions and the disk database (`ddb.*`).
 * It is either a small text file or embedded in a hosted sparse extent.
 * Deviation: unknown header keys are kept but not interpreted; "#" starts a
 * comment only at the beginning of a line, as in files VMware writes.
 */
import { CorruptDataError } from "@backplane/core";

/** One extent description line: `RW 10240 SPARSE "disk.vmdk" 0`. */
export interface ExtentDescription {
  /** RW, RDONLY or NOACCESS. */
  access: string;
  /** Extent size in 512-byte sectors. */
  sectors: number;
  /** SPARSE, FLAT, ZERO, VMFS, VMFSSPARSE, ... */
  type: string;
  filename: string;
  /** Offset of the extent's data in its file, in sectors (FLAT and VMFS only). */
  offset: number;
}

export interface VmdkDescriptor {
  version: number;
  /** Content ID: changes when the disk's content changes. */
  cid: number;
  /** Content ID of the parent, 0xffffffff without one. */
  parentCid: number;
  createType: string;
  parentFileNameHint?: string;
  extents: ExtentDescription[];
  /** Disk database entries, in file order (`ddb.geometry.cylinders` -> `"10"`). */
  ddb: Map<string, string>;
}

/** Descriptors larger than this are refused (VMware keeps them to a few KiB). */
export const MAX_DESCRIPTOR_SIZE = 1 << 20;

/** CID_NOPARENT: parentCID of a disk without a parent. */
export const CID_NOPARENT = 0xffffffff;

const unquote = (s: string): string =>
  s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;

function parseCid(value: string, key: string): number {
  if (!/^[0-9a-fA-F]{1,8}$/.test(value))
    throw new CorruptDataError(`VMDK descriptor ${key}=${value} is not a hex number`);
  return Number.parseInt(value, 16);
}

/** True when `text` looks like a descriptor file (used for probing). */
export function looksLikeDescriptor(text: string): boolean {
  return (
    /^#\s*Disk DescriptorFile/m.test(text) || (/createType\s*=/.test(text) && /^version\s*=/m.test(text))
  );
}

export function parseDescriptor(text: string): VmdkDescriptor {
  const d: VmdkDescriptor = {
    version: 1,
    cid: 0,
    parentCid: CID_NOPARENT,
    createType: "",
    extents: [],
    ddb: new Map(),
  };
  let sawCreateType = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\0.*$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const ext = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)")?(?:\s+(\d+))?\s*$/.exec(line);
    if (ext) {
      const sectors = Number(ext[2]);
      const offset = Number(ext[5] ?? 0);
      if (!Number.isSafeInteger(sectors * 512) || !Number.isSafeInteger(offset * 512)) {
        throw new CorruptDataError(`VMDK extent line '${line}' has an absurd size`);
      }
      d.extents.push({ access: ext[1], sectors, type: ext[3], filename: ext[4] ?? "", offset });
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new CorruptDataError(`VMDK descriptor line '${line.slice(0, 80)}' is not understood`);
    const key = line.slice(0, eq).trim();
    const value = unquote(line.slice(eq + 1).trim());
    if (key.startsWith("ddb.")) d.ddb.set(key, value);
    else if (key === "version") d.version = Number(value);
    else if (key === "CID") d.cid = parseCid(value, key);
    else if (key === "parentCID") d.parentCid = parseCid(value, key);
    else if (key === "createType") {
      d.createType = value;
      sawCreateType = true;
    } else if (key === "parentFileNameHint") d.parentFileNameHint = value;
  }
  if (!sawCreateType) throw new CorruptDataError("VMDK descriptor has no createType");
  return d;
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");

export function formatDescriptor(d: VmdkDescriptor): string {
  const lines = [
    "# Disk DescriptorFile",
    `version=${d.version}`,
    `CID=${hex8(d.cid)}`,
    `parentCID=${hex8(d.parentCid)}`,
    `createType="${d.createType}"`,
  ];
  if (d.parentFileNameHint !== undefined) lines.push(`parentFileNameHint="${d.parentFileNameHint}"`);
  lines.push("", "# Extent description");
  for (const e of d.extents) {
    const withOffset = e.type === "FLAT" || e.type === "VMFS";
    lines.push(`${e.access} ${e.sectors} ${e.type} "${e.filename}"${withOffset ? ` ${e.offset}` : ""}`);
  }
  lines.push("", "# The Disk Data Base", "#DDB", "");
  for (const [k, v] of d.ddb) lines.push(`${k} = "${v}"`);
  return `${lines.join("\n")}\n`;
}
