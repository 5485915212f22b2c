// RAM word access through the AddressSpace fast path (readWord/writeWord: one
// compare against the last block hit, then its aligned Int32Array) and through
// lookup() per access, against a bare Int32Array of the same size.
// Run: npm run bench (in packages/memory); the summary prints the ratios.
import { bench, describe } from "vitest";
import { AddressSpace } from "../src/index.js";

const SIZE = 1 << 20;
const BASE = 0x8000_0000;
const N = 4096;
const bare = new Int32Array(SIZE >> 2);
const as = new AddressSpace();
as.addRam("ram", BASE, SIZE);
as.addDevice("uart", 0x1000_0000, { size: 8, widths: [1], read: () => 0, write: () => {} });
let sink = 0;

describe("32-bit RAM word read", () => {
  bench("bare Int32Array", () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += bare[(i * 1021) & 0x3ffff];
    sink += s;
  });
  bench("AddressSpace.readWord", () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += as.readWord(BASE + (((i * 1021) & 0x3ffff) << 2)) ?? 0;
    sink += s;
  });
  bench("AddressSpace.lookup per access", () => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      const addr = BASE + (((i * 1021) & 0x3ffff) << 2);
      const r = as.lookup(addr);
      if (r !== undefined && r.block !== null) s += r.block.words[(addr - r.base) >>> 2];
    }
    sink += s;
  });
});

describe("32-bit RAM word write", () => {
  bench("bare Int32Array", () => {
    for (let i = 0; i < N; i++) bare[(i * 1021) & 0x3ffff] = i;
  });
  bench("AddressSpace.writeWord", () => {
    for (let i = 0; i < N; i++) as.writeWord(BASE + (((i * 1021) & 0x3ffff) << 2), i);
  });
  bench("AddressSpace.lookup per access", () => {
    for (let i = 0; i < N; i++) {
      const addr = BASE + (((i * 1021) & 0x3ffff) << 2);
      const r = as.lookup(addr);
      if (r !== undefined && r.ram !== null) r.ram.words[(addr - r.base) >>> 2] = i;
    }
  });
});

export { sink };
