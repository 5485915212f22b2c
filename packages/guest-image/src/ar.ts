/**
 * Reader for Unix `ar` archives, the container of Debian binary packages.
 *
 * Spec: ar(5) as written by GNU binutils and dpkg: the `!<arch>\n` magic, then
 * members, each a 60-byte ASCII header (name[16] mtime[12] uid[6] gid[6]
 * mode[8] size[10] "`\n") followed by the data padded to an even length.
 * GNU extensions handled: names ending in "/", the "//" long-name table with
 * "/N" references, and the "/" symbol table (skipped).
 * Left out: BSD "#1/N" inline long names, thin archives, writing.
 */
import { CorruptDataError, UnsupportedError } from "@backplane/core";

/** One member of an ar archive. `data` is a view into the archive bytes. */
export interface ArMember {
  name: string;
  mtime: number;
  uid: number;
  gid: number;
  mode: number;
  data: Uint8Array;
}

const MAGIC = "!<arch>\n";
const HEADER_SIZE = 60;
const latin1 = new TextDecoder("latin1");

function field(bytes: Uint8Array, start: number, length: number): string {
  return latin1.decode(bytes.subarray(start, start + length)).trimEnd();
}

function decimal(text: string, radix: number, what: string, offset: number): number {
  if (text === "") return 0;
  const pattern = radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!pattern.test(text))
    throw new CorruptDataError(`ar: bad ${what} field '${text}' in member header at offset ${offset}`);
  return Number.parseInt(text, radix);
}

/** Splits an ar archive into its members, in archive order. */
export function readAr(bytes: Uint8Array): ArMember[] {
  if (bytes.length < MAGIC.length || latin1.decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) {
    throw new CorruptDataError("ar: missing '!<arch>' magic");
  }
  const members: ArMember[] = [];
  let longNames: Uint8Array | undefined;
  let offset = MAGIC.length;
  while (offset < bytes.length) {
    if (bytes.length - offset < HEADER_SIZE)
      throw new CorruptDataError(`ar: truncated member header at offset ${offset}`);
    if (bytes[offset + 58] !== 0x60 || bytes[offset + 59] !== 0x0a) {
      throw new CorruptDataError(`ar: bad member header terminator at offset ${offset}`);
    }
    const rawName = field(bytes, offset, 16);
    const size = decimal(field(bytes, offset + 48, 10), 10, "size", offset);
    const start = offset + HEADER_SIZE;
    if (start + size > bytes.length)
      throw new CorruptDataError(`ar: member '${rawName}' at offset ${offset} runs past the end`);
    const data = bytes.subarray(start, start + size);
    const next = start + size + (size & 1);
    if (rawName === "/" || rawName === "/SYM64/") {
      offset = next;
      continue;
    }
    if (rawName === "//") {
      longNames = data;
      offset = next;
      continue;
    }
    if (rawName.startsWith("#1/"))
      throw new UnsupportedError(`ar: BSD long member name '${rawName}' is not supported`);
    let name: string;
    if (/^\/[0-9]+$/.test(rawName)) {
      if (!longNames) throw new CorruptDataError(`ar: long name reference '${rawName}' without a '//' table`);
      const at = Number.parseInt(rawName.slice(1), 10);
      const end = longNames.indexOf(0x0a, at);
      if (at >= longNames.length || end < 0)
        throw new CorruptDataError(`ar: long name reference '${rawName}' is out of range`);
      name = latin1.decode(longNames.subarray(at, end)).replace(/\/$/, "");
    } else {
      name = rawName.replace(/\/$/, "");
    }
    members.push({
      name,
      mtime: decimal(field(bytes, offset + 16, 12), 10, "mtime", offset),
      uid: decimal(field(bytes, offset + 28, 6), 10, "uid", offset),
      gid: decimal(field(bytes, offset + 34, 6), 10, "gid", offset),
      mode: decimal(field(bytes, offset + 40, 8), 8, "mode", offset),
      data,
    });
    offset = next;
  }
  return members;
}
