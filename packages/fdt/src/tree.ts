/**
 * An in-memory devicetree: nodes with named properties holding raw bytes.
 *
 * Models the data model of the Devicetree Specification v0.4, chapter 2:
 * node names with unit addresses (2.2.1), properties as byte strings (2.2.4),
 * phandles (2.3.3) and the cell helpers of 2.2.4.2 (u32, u64, strings,
 * prop-encoded arrays). Serialization is in `blob.ts`.
 */
import { InvalidArgumentError } from "@backplane/core";

/** A value accepted by {@link FdtNode.set}: cells, a string, a string list or raw bytes. */
export type PropValue =
  | Uint8Array
  | string
  | readonly string[]
  | number
  | bigint
  | readonly (number | bigint)[];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes 32-bit cells big-endian; a bigint takes two cells (high first). */
export function cells(...values: readonly (number | bigint)[]): Uint8Array {
  const words: number[] = [];
  for (const v of values) {
    if (typeof v === "bigint") {
      if (v < 0n || v > 0xffff_ffff_ffff_ffffn)
        throw new InvalidArgumentError(`64-bit cell value out of range: ${v}`);
      words.push(Number(v >> 32n), Number(v & 0xffff_ffffn));
    } else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
        throw new InvalidArgumentError(`cell value out of range: ${v}`);
      words.push(v);
    }
  }
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => {
    dv.setUint32(i * 4, w);
  });
  return out;
}

/** Encodes a value in `count` cells (1 or 2), as `#address-cells`/`#size-cells` require. */
export function sizedCells(value: number | bigint, count: number): (number | bigint)[] {
  const big = BigInt(value);
  if (count === 1) {
    if (big > 0xffff_ffffn)
      throw new InvalidArgumentError(`value 0x${big.toString(16)} does not fit one cell`);
    return [Number(big)];
  }
  if (count === 2) return [big];
  throw new InvalidArgumentError(`unsupported cell count ${count}`);
}

/** Encodes one NUL-terminated string or a list of them (`compatible`). */
export function strings(...values: readonly string[]): Uint8Array {
  return encoder.encode(values.map((s) => `${s}\0`).join(""));
}

function encode(value: PropValue): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return strings(value);
  if (typeof value === "number" || typeof value === "bigint") return cells(value);
  if (value.length > 0 && typeof value[0] === "string") return strings(...(value as readonly string[]));
  return cells(...(value as readonly (number | bigint)[]));
}

/** One devicetree node. Property order and child order are kept as inserted. */
export class FdtNode {
  readonly name: string;
  readonly props = new Map<string, Uint8Array>();
  readonly children: FdtNode[] = [];

  constructor(name: string) {
    if (name.includes("/")) throw new InvalidArgumentError(`node name may not contain '/': ${name}`);
    this.name = name;
  }

  /** Sets a property; numbers become u32 cells, bigints u64, strings NUL-terminated. */
  set(name: string, value: PropValue = new Uint8Array(0)): this {
    this.props.set(name, encode(value));
    return this;
  }

  /** Appends and returns a new child; names must be unique among siblings. */
  add(name: string): FdtNode {
    if (this.child(name)) throw new InvalidArgumentError(`duplicate node ${name} under ${this.name || "/"}`);
    const node = new FdtNode(name);
    this.children.push(node);
    return node;
  }

  /** Removes a child by name; returns whether it existed. */
  remove(name: string): boolean {
    const i = this.children.findIndex((c) => c.name === name);
    if (i >= 0) this.children.splice(i, 1);
    return i >= 0;
  }

  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }

  /** Raw property bytes, or undefined. */
  get(name: string): Uint8Array | undefined {
    return this.props.get(name);
  }

  /** A property read as big-endian 32-bit cells. */
  getCells(name: string): number[] | undefined {
    const v = this.props.get(name);
    if (!v) return undefined;
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    return Array.from({ length: v.length >>> 2 }, (_, i) => dv.getUint32(i * 4));
  }

  /** A property read as one u32 (the first cell). */
  getU32(name: string): number | undefined {
    return this.getCells(name)?.[0];
  }

  /** A property read as a list of NUL-terminated strings. */
  getStrings(name: string): string[] | undefined {
    const v = this.props.get(name);
    if (!v) return undefined;
    const text = decoder.decode(v);
    return (text.endsWith("\0") ? text.slice(0, -1) : text).split("\0");
  }

  getString(name: string): string | undefined {
    return this.getStrings(name)?.[0];
  }
}

/** A whole devicetree: the root node, memory reservations and phandle allocation. */
export class DeviceTree {
  readonly root = new FdtNode("");
  /** Memory reservation block entries (spec 5.3): address and size pairs. */
  readonly reservations: { address: bigint; size: bigint }[] = [];
  /** Physical id of the boot CPU (header field `boot_cpuid_phys`). */
  bootCpuId = 0;

  /** Finds a node by absolute path (`/soc/serial@10000000`). */
  find(path: string): FdtNode | undefined {
    if (!path.startsWith("/")) return undefined;
    let node: FdtNode | undefined = this.root;
    for (const part of path.split("/").filter(Boolean)) {
      node = node?.child(part);
    }
    return node;
  }

  /** Gives `node` a phandle (reusing one it has, else the lowest unused) and returns it. */
  phandle(node: FdtNode): number {
    const existing = node.getU32("phandle");
    if (existing !== undefined) return existing;
    const used = new Set<number>();
    const visit = (n: FdtNode): void => {
      const p = n.getU32("phandle");
      if (p !== undefined) used.add(p);
      n.children.forEach(visit);
    };
    visit(this.root);
    let next = 1;
    while (used.has(next)) next++;
    node.set("phandle", next);
    return next;
  }
}
