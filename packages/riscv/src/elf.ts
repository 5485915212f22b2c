/**
 * ELF loader: copies the PT_LOAD segments of an ELF32 or ELF64 RISC-V
 * executable into an address space at their physical addresses and returns
 * the entry point.
 * Spec: System V ABI, Tool Interface Standard ELF 1.2 (file header, program
 * header table); RISC-V ELF psABI 1.0 (e_machine 243).
 *
 * Deviation: segments are loaded at p_paddr (as QEMU's loader does for
 * -kernel/-bios ELF files); section headers, relocations and symbols are
 * ignored.
 */
import { CorruptDataError, UnsupportedError } from "@backplane/core";
import type { AddressSpace } from "@backplane/memory";

const EM_RISCV = 243;
const PT_LOAD = 1;

/** One loaded segment. */
export interface LoadedSegment {
  readonly address: bigint;
  readonly fileSize: number;
  readonly memorySize: number;
}

/** Result of {@link loadElf}. */
export interface LoadedElf {
  readonly entry: bigint;
  readonly xlen: 32 | 64;
  readonly segments: readonly LoadedSegment[];
}

/**
 * Loads `image` into `bus`. Throws {@link CorruptDataError} for a malformed
 * file or a segment outside writable memory, {@link UnsupportedError} for a
 * non-RISC-V or big-endian file.
 */
export function loadElf(bus: AddressSpace, image: Uint8Array): LoadedElf {
  if (image.length < 52 || image[0] !== 0x7f || image[1] !== 0x45 || image[2] !== 0x4c || image[3] !== 0x46) {
    throw new CorruptDataError("not an ELF file (bad magic)");
  }
  const cls = image[4];
  if (cls !== 1 && cls !== 2) throw new CorruptDataError(`bad ELF class ${cls}`);
  if (image[5] !== 1) throw new UnsupportedError("big-endian ELF files are not supported");
  const is64 = cls === 2;
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const machine = view.getUint16(18, true);
  if (machine !== EM_RISCV) throw new UnsupportedError(`ELF machine ${machine} is not RISC-V (243)`);
  const word = (o: number): number => (is64 ? Number(view.getBigUint64(o, true)) : view.getUint32(o, true));
  const entry = is64 ? view.getBigUint64(24, true) : BigInt(view.getUint32(24, true));
  const phoff = word(is64 ? 32 : 28);
  const phentsize = view.getUint16(is64 ? 54 : 42, true);
  const phnum = view.getUint16(is64 ? 56 : 44, true);
  if (phoff + phnum * phentsize > image.length)
    throw new CorruptDataError("ELF program headers run past the end of the file");
  const segments: LoadedSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (view.getUint32(ph, true) !== PT_LOAD) continue;
    const offset = word(ph + (is64 ? 8 : 4));
    const paddr = word(ph + (is64 ? 24 : 12));
    const filesz = word(ph + (is64 ? 32 : 16));
    const memsz = word(ph + (is64 ? 40 : 20));
    if (offset + filesz > image.length || filesz > memsz) {
      throw new CorruptDataError(`ELF segment ${i} lies outside the file`);
    }
    const region = bus.lookup(paddr);
    if (region?.ram == null || paddr + memsz > region.end) {
      throw new CorruptDataError(`ELF segment ${i} at 0x${paddr.toString(16)} (+${memsz}) is not inside RAM`);
    }
    const at = paddr - region.base;
    region.ram.bytes.set(image.subarray(offset, offset + filesz), at);
    region.ram.bytes.fill(0, at + filesz, at + memsz);
    region.ram.markDirty(at, memsz);
    segments.push({ address: BigInt(paddr), fileSize: filesz, memorySize: memsz });
  }
  return { entry, xlen: is64 ? 64 : 32, segments };
}
