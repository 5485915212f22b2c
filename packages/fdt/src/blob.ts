/**
 * Flattened devicetree (DTB) serialization: Devicetree Specification v0.4,
 * chapter 5 — header (5.2), memory reservation block (5.3), structure block
 * tokens FDT_BEGIN_NODE/END_NODE/PROP/NOP/END (5.4) and strings block (5.5).
 * Writes version 17 (last compatible 16), as dtc does. The parser accepts
 * versions 16 and 17, checks every offset and length against the blob and
 * throws CorruptDataError on anything malformed; it always terminates because
 * every token advances through a bounded buffer.
 */
import { CorruptDataError, UnsupportedError } from "@backplane/core";
import { DeviceTree, type FdtNode } from "./tree.js";

export const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 0x1;
const FDT_END_NODE = 0x2;
const FDT_PROP = 0x3;
const FDT_NOP = 0x4;
const FDT_END = 0x9;
const HEADER_SIZE = 40;
const MAX_DEPTH = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

const align4 = (n: number): number => (n + 3) & ~3;

/** Serializes a tree to a DTB blob. */
export function toBlob(tree: DeviceTree): Uint8Array {
  const strings: number[] = [];
  const stringOffsets = new Map<string, number>();
  const nameOffset = (name: string): number => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      off = strings.length;
      stringOffsets.set(name, off);
      strings.push(...encoder.encode(name), 0);
    }
    return off;
  };

  const struct: number[] = [];
  const word = (w: number): void => {
    struct.push((w >>> 24) & 0xff, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff);
  };
  const padded = (bytes: Uint8Array): void => {
    struct.push(...bytes);
    while (struct.length % 4) struct.push(0);
  };
  const emit = (node: FdtNode): void => {
    word(FDT_BEGIN_NODE);
    padded(encoder.encode(`${node.name}\0`));
    for (const [name, value] of node.props) {
      word(FDT_PROP);
      word(value.length);
      word(nameOffset(name));
      padded(value);
    }
    node.children.forEach(emit);
    word(FDT_END_NODE);
  };
  emit(tree.root);
  word(FDT_END);

  const rsvOffset = HEADER_SIZE; // 8-aligned
  const rsvSize = (tree.reservations.length + 1) * 16;
  const structOffset = rsvOffset + rsvSize;
  const stringsOffset = structOffset + struct.length;
  const total = align4(stringsOffset + strings.length);

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const header = [
    FDT_MAGIC,
    total,
    structOffset,
    stringsOffset,
    rsvOffset,
    17,
    16,
    tree.bootCpuId,
    strings.length,
    struct.length,
  ];
  header.forEach((v, i) => {
    dv.setUint32(i * 4, v);
  });
  tree.reservations.forEach((r, i) => {
    dv.setBigUint64(rsvOffset + i * 16, r.address);
    dv.setBigUint64(rsvOffset + i * 16 + 8, r.size);
  });
  out.set(struct, structOffset);
  out.set(strings, stringsOffset);
  return out;
}

/** Parses a DTB blob; throws CorruptDataError on malformed input. */
export function parseBlob(blob: Uint8Array): DeviceTree {
  if (blob.length < HEADER_SIZE)
    throw new CorruptDataError(`DTB truncated: ${blob.length} bytes is less than a header`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const h = (i: number): number => dv.getUint32(i * 4);
  if (h(0) !== FDT_MAGIC) throw new CorruptDataError(`not a DTB: bad magic 0x${h(0).toString(16)}`);
  const [total, offStruct, offStrings, offRsv, version, lastComp, bootCpu, sizeStrings] = [
    h(1),
    h(2),
    h(3),
    h(4),
    h(5),
    h(6),
    h(7),
    h(8),
  ];
  if (lastComp > 17 || version < 16)
    throw new UnsupportedError(`unsupported DTB version ${version} (last compatible ${lastComp})`);
  if (total > blob.length)
    throw new CorruptDataError(`DTB truncated: header says ${total} bytes, have ${blob.length}`);
  const sizeStruct = version >= 17 ? h(9) : total - offStruct;
  const inside = (off: number, len: number): boolean => off >= HEADER_SIZE && len >= 0 && off + len <= total;
  if (!inside(offStruct, sizeStruct) || !inside(offStrings, sizeStrings) || !inside(offRsv, 16)) {
    throw new CorruptDataError("DTB block offsets lie outside the blob");
  }

  const tree = new DeviceTree();
  tree.bootCpuId = bootCpu;
  for (let off = offRsv; ; off += 16) {
    if (off + 16 > total) throw new CorruptDataError("DTB memory reservation block is not terminated");
    const address = dv.getBigUint64(off);
    const size = dv.getBigUint64(off + 8);
    if (address === 0n && size === 0n) break;
    tree.reservations.push({ address, size });
  }

  const end = offStruct + sizeStruct;
  let pos = offStruct;
  const token = (): number => {
    if (pos + 4 > end) throw new CorruptDataError("DTB structure block ends without FDT_END");
    const t = dv.getUint32(pos);
    pos += 4;
    return t;
  };
  const cstring = (from: number, limit: number, what: string): string => {
    const nul = blob.subarray(from, limit).indexOf(0);
    if (nul < 0) throw new CorruptDataError(`DTB ${what} is not NUL-terminated`);
    return decoder.decode(blob.subarray(from, from + nul));
  };

  const stack: FdtNode[] = [];
  let sawRoot = false;
  for (;;) {
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      const name = cstring(pos, end, "node name");
      pos = align4(pos + encoder.encode(name).length + 1);
      if (stack.length === 0) {
        if (sawRoot) throw new CorruptDataError("DTB has more than one root node");
        sawRoot = true;
        stack.push(tree.root);
      } else {
        if (stack.length >= MAX_DEPTH)
          throw new CorruptDataError(`DTB nests deeper than ${MAX_DEPTH} levels`);
        const parent = stack[stack.length - 1];
        if (parent.child(name)) throw new CorruptDataError(`DTB has duplicate node ${name}`);
        stack.push(parent.add(name));
      }
    } else if (t === FDT_PROP) {
      const node = stack[stack.length - 1];
      if (!node) throw new CorruptDataError("DTB property outside any node");
      const len = token();
      const nameoff = token();
      if (pos + len > end) throw new CorruptDataError("DTB property value runs past the structure block");
      if (nameoff >= sizeStrings)
        throw new CorruptDataError(`DTB property name offset ${nameoff} outside strings block`);
      const name = cstring(offStrings + nameoff, offStrings + sizeStrings, "property name");
      node.props.set(name, blob.slice(pos, pos + len));
      pos = align4(pos + len);
    } else if (t === FDT_END_NODE) {
      if (!stack.pop()) throw new CorruptDataError("DTB has an unmatched FDT_END_NODE");
    } else if (t === FDT_END) {
      if (stack.length !== 0 || !sawRoot) throw new CorruptDataError("DTB ends inside a node or has no root");
      return tree;
    } else {
      throw new CorruptDataError(`DTB has unknown token 0x${t.toString(16)} at offset ${pos - 4}`);
    }
  }
}
