/**
 * On-disk structures of VHD images (Microsoft Virtual Hard Disk Image Format
 * Specification 1.0): the 512-byte hard disk footer, the 1024-byte dynamic
 * disk header with its parent locators, their one's-complement checksums and
 * the CHS geometry algorithm of the specification's appendix. All fields are
 * big-endian.
 */
import {
  CorruptDataError,
  readSafeU64BE,
  readU16BE,
  readU32BE,
  writeU16BE,
  writeU32BE,
  writeU64BE,
} from "@backplane/core";

export const FOOTER_SIZE = 512;
export const DYNAMIC_HEADER_SIZE = 1024;
export const SECTOR = 512;

/** Disk Type field values (spec "Hard Disk Footer Format", Disk Type). */
export const DISK_TYPE_FIXED = 2;
export const DISK_TYPE_DYNAMIC = 3;
export const DISK_TYPE_DIFFERENCING = 4;

/** Parent locator platform codes: Windows absolute and relative paths, UTF-16LE. */
export const PLATFORM_CODE_W2KU = 0x57326b75;
export const PLATFORM_CODE_W2RU = 0x57327275;
/** Mac OS X file URL, UTF-8 (read only). */
export const PLATFORM_CODE_MACX = 0x4d616358;

/** The largest geometry the specification allows: 65535 cylinders, 16 heads, 255 sectors per track. */
export const MAX_CHS_SECTORS = 65535 * 16 * 255;

/** The hard disk footer (spec section "Hard Disk Footer Format"). */
export interface VhdFooter {
  features: number;
  fileFormatVersion: number;
  /** Byte offset of the dynamic disk header, or -1 (all ones) for fixed disks. */
  dataOffset: number;
  /** Seconds since 2000-01-01 00:00:00 UTC. */
  timeStamp: number;
  creatorApplication: string;
  creatorVersion: number;
  creatorHostOs: string;
  originalSize: number;
  currentSize: number;
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
  diskType: number;
  uniqueId: Uint8Array;
  savedState: number;
}

/** One parent locator entry of the dynamic disk header. */
export interface ParentLocator {
  platformCode: number;
  /** Bytes reserved for the locator data (see the Deviation note in vhd.ts). */
  platformDataSpace: number;
  platformDataLength: number;
  platformDataOffset: number;
}

/** The dynamic disk header (spec section "Dynamic Disk Header Format"). */
export interface VhdDynamicHeader {
  tableOffset: number;
  headerVersion: number;
  maxTableEntries: number;
  blockSize: number;
  parentUniqueId: Uint8Array;
  parentTimeStamp: number;
  parentUnicodeName: string;
  parentLocators: ParentLocator[];
}

/** One's complement of the byte sum of `b`, skipping the 4-byte checksum field at `at`. */
export function vhdChecksum(b: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) if (i < at || i >= at + 4) sum += b[i];
  return ~sum >>> 0;
}

const ascii = (b: Uint8Array, o: number, n: number): string => String.fromCharCode(...b.subarray(o, o + n));
function writeAscii(b: Uint8Array, o: number, s: string): void {
  for (let i = 0; i < s.length; i++) b[o + i] = s.charCodeAt(i);
}

function readOffset(b: Uint8Array, o: number, what: string): number {
  if (readU32BE(b, o) === 0xffffffff && readU32BE(b, o + 4) === 0xffffffff) return -1;
  try {
    return readSafeU64BE(b, o);
  } catch {
    throw new CorruptDataError(
      `VHD ${what} ${readU32BE(b, o).toString(16)}:${readU32BE(b, o + 4).toString(16)} is out of range`,
    );
  }
}

/** Parses a footer, or returns undefined when the cookie is not "conectix". Throws on a bad checksum. */
export function parseFooter(b: Uint8Array): VhdFooter | undefined {
  if (ascii(b, 0, 8) !== "conectix") return undefined;
  const stored = readU32BE(b, 64);
  const computed = vhdChecksum(b.subarray(0, FOOTER_SIZE), 64);
  if (stored !== computed) {
    throw new CorruptDataError(
      `VHD footer checksum mismatch: stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`,
    );
  }
  return {
    features: readU32BE(b, 8),
    fileFormatVersion: readU32BE(b, 12),
    dataOffset: readOffset(b, 16, "data offset"),
    timeStamp: readU32BE(b, 24),
    creatorApplication: ascii(b, 28, 4),
    creatorVersion: readU32BE(b, 32),
    creatorHostOs: ascii(b, 36, 4),
    originalSize: readOffset(b, 40, "original size"),
    currentSize: readOffset(b, 48, "current size"),
    cylinders: readU16BE(b, 56),
    heads: b[58],
    sectorsPerTrack: b[59],
    diskType: readU32BE(b, 60),
    uniqueId: b.slice(68, 84),
    savedState: b[84],
  };
}

export function encodeFooter(f: VhdFooter): Uint8Array {
  const b = new Uint8Array(FOOTER_SIZE);
  writeAscii(b, 0, "conectix");
  writeU32BE(b, 8, f.features);
  writeU32BE(b, 12, f.fileFormatVersion);
  writeU64BE(b, 16, f.dataOffset < 0 ? 0xffffffffffffffffn : BigInt(f.dataOffset));
  writeU32BE(b, 24, f.timeStamp);
  writeAscii(b, 28, f.creatorApplication);
  writeU32BE(b, 32, f.creatorVersion);
  writeAscii(b, 36, f.creatorHostOs);
  writeU64BE(b, 40, BigInt(f.originalSize));
  writeU64BE(b, 48, BigInt(f.currentSize));
  writeU16BE(b, 56, f.cylinders);
  b[58] = f.heads;
  b[59] = f.sectorsPerTrack;
  writeU32BE(b, 60, f.diskType);
  b.set(f.uniqueId, 68);
  b[84] = f.savedState;
  writeU32BE(b, 64, vhdChecksum(b, 64));
  return b;
}

export function parseDynamicHeader(b: Uint8Array): VhdDynamicHeader {
  if (ascii(b, 0, 8) !== "cxsparse")
    throw new CorruptDataError("VHD dynamic header cookie is not 'cxsparse'");
  const stored = readU32BE(b, 36);
  const computed = vhdChecksum(b.subarray(0, DYNAMIC_HEADER_SIZE), 36);
  if (stored !== computed) {
    throw new CorruptDataError(
      `VHD dynamic header checksum mismatch: stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`,
    );
  }
  const parentLocators: ParentLocator[] = [];
  for (let i = 0; i < 8; i++) {
    const o = 576 + i * 24;
    const platformCode = readU32BE(b, o);
    if (platformCode === 0) continue;
    parentLocators.push({
      platformCode,
      platformDataSpace: readU32BE(b, o + 4),
      platformDataLength: readU32BE(b, o + 8),
      platformDataOffset: readOffset(b, o + 16, "parent locator offset"),
    });
  }
  const name = b.subarray(64, 576);
  let end = 0;
  while (end < name.length && (name[end] !== 0 || name[end + 1] !== 0)) end += 2;
  return {
    tableOffset: readOffset(b, 16, "table offset"),
    headerVersion: readU32BE(b, 24),
    maxTableEntries: readU32BE(b, 28),
    blockSize: readU32BE(b, 32),
    parentUniqueId: b.slice(40, 56),
    parentTimeStamp: readU32BE(b, 56),
    parentUnicodeName: new TextDecoder("utf-16be").decode(name.subarray(0, end)),
    parentLocators,
  };
}

export function encodeDynamicHeader(h: VhdDynamicHeader): Uint8Array {
  const b = new Uint8Array(DYNAMIC_HEADER_SIZE);
  writeAscii(b, 0, "cxsparse");
  writeU64BE(b, 8, 0xffffffffffffffffn);
  writeU64BE(b, 16, BigInt(h.tableOffset));
  writeU32BE(b, 24, h.headerVersion);
  writeU32BE(b, 28, h.maxTableEntries);
  writeU32BE(b, 32, h.blockSize);
  b.set(h.parentUniqueId, 40);
  writeU32BE(b, 56, h.parentTimeStamp);
  const name = h.parentUnicodeName;
  for (let i = 0; i < name.length && i < 255; i++) writeU16BE(b, 64 + i * 2, name.charCodeAt(i));
  h.parentLocators.forEach((l, i) => {
    const o = 576 + i * 24;
    writeU32BE(b, o, l.platformCode);
    writeU32BE(b, o + 4, l.platformDataSpace);
    writeU32BE(b, o + 8, l.platformDataLength);
    writeU64BE(b, o + 16, BigInt(l.platformDataOffset));
  });
  writeU32BE(b, 36, vhdChecksum(b, 36));
  return b;
}

/** CHS geometry for `totalSectors`, per the specification's appendix "CHS Calculation". */
export function chsGeometry(totalSectors: number): {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
} {
  const total = Math.min(totalSectors, MAX_CHS_SECTORS);
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (total >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
    heads = Math.max(4, Math.floor((cylinderTimesHeads + 1023) / 1024));
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}
