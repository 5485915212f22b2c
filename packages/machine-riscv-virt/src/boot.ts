/**
 * Boot images and where they go, following QEMU 7.2's RISC-V boot flow
 * (hw/riscv/boot.c) so firmware and kernels see the same layout:
 * - firmware (`-bios FILE`) at the start of RAM; without firmware the kernel
 *   itself is the first thing run;
 * - the kernel (ELF at its physical addresses, otherwise a raw image) at the
 *   first 2 MiB boundary after the firmware (4 MiB on RV32);
 * - the initrd at kernel + min(RAM / 2, 128 MiB);
 * - the device tree at the highest 2 MiB-aligned address below
 *   min(end of RAM, 3 GiB) that leaves room for it;
 * - a reset vector in the mask ROM that sets a0 = mhartid, a1 = DTB address,
 *   a2 = an OpenSBI fw_dynamic_info block, and jumps to the first image.
 * Linux RISC-V image header: Documentation/riscv/boot-image-header.rst.
 * OpenSBI fw_dynamic_info: include/sbi/fw_dynamic.h (version 2).
 *
 * Deviation: U-Boot uImage files are not recognised (QEMU tries them between
 * ELF and raw).
 */
import { InvalidArgumentError, readU32LE, UnsupportedError } from "@backplane/core";

const MiB = 1024 * 1024;

/** The three kinds of kernel file `-kernel` accepts. */
export type ImageKind = "elf" | "riscv-image" | "raw";

/**
 * Classifies a kernel or firmware file. Throws {@link UnsupportedError} for
 * an image that announces another architecture (an arm64 Linux Image, a
 * non-RISC-V ELF is rejected by the ELF loader).
 */
export function imageKind(image: Uint8Array): ImageKind {
  if (image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46)
    return "elf";
  if (image.length >= 64) {
    const magic2 = readU32LE(image, 56);
    if (magic2 === 0x05435352) return "riscv-image"; // "RSC\x05"
    if (magic2 === 0x644d5241)
      throw new UnsupportedError("the kernel is an arm64 Linux Image, not a RISC-V one");
  }
  return "raw";
}

/** Where the kernel goes after firmware ending at `firmwareEnd` (QEMU: riscv_calc_kernel_start_addr). */
export function kernelStart(firmwareEnd: number, xlen: 32 | 64): number {
  const align = xlen === 64 ? 2 * MiB : 4 * MiB;
  return Math.ceil(firmwareEnd / align) * align;
}

/** Where the initrd goes (QEMU: riscv_load_initrd). */
export function initrdStart(kernelEntry: number, ramSize: number): number {
  return kernelEntry + Math.min(ramSize / 2, 128 * MiB);
}

/** Where the DTB goes (QEMU: riscv_load_fdt). */
export function dtbAddress(ramBase: number, ramSize: number, dtbSize: number): number {
  const end = ramBase + ramSize;
  const top = ramBase < 3072 * MiB ? Math.min(end, 3072 * MiB) : end;
  const address = Math.floor((top - dtbSize) / (2 * MiB)) * (2 * MiB);
  if (address < ramBase) throw new InvalidArgumentError(`no room for the ${dtbSize}-byte device tree in RAM`);
  return address;
}

// RV32I/RV64I encodings used by the reset vector (unprivileged spec chapter 24 opcode map).
const T0 = 5;
const A0 = 10;
const A1 = 11;
const A2 = 12;
const CSR_MHARTID = 0xf14;
const auipc = (rd: number, imm20: number): number => ((imm20 << 12) | (rd << 7) | 0x17) >>> 0;
const addi = (rd: number, rs1: number, imm: number): number =>
  ((imm << 20) | (rs1 << 15) | (rd << 7) | 0x13) >>> 0;
const csrr = (rd: number, csr: number): number => ((csr << 20) | (2 << 12) | (rd << 7) | 0x73) >>> 0;
const load = (xlen: 32 | 64, rd: number, rs1: number, imm: number): number =>
  ((imm << 20) | (rs1 << 15) | ((xlen === 64 ? 3 : 2) << 12) | (rd << 7) | 0x03) >>> 0;
const jr = (rs1: number): number => ((rs1 << 15) | 0x67) >>> 0;

/** OpenSBI's fw_dynamic_info magic ("OSBI") and the S-mode `next_mode`. */
const FW_DYNAMIC_INFO_MAGIC = 0x4942534f;
const FW_DYNAMIC_INFO_VERSION = 2;
const NEXT_MODE_S = 1;

export interface ResetVector {
  /** First instruction run: firmware entry, or the kernel's without firmware. */
  start: number;
  /** Physical address of the DTB, passed in a1. */
  dtb: number;
  /** Address firmware should continue at (fw_dynamic_info.next_addr). */
  next: number;
  xlen: 32 | 64;
}

/** The mask ROM contents: reset code, its two address slots and fw_dynamic_info. */
export function resetVector(v: ResetVector): Uint8Array {
  const rom = new Uint8Array(0x28 + 6 * 8);
  const view = new DataView(rom.buffer);
  const code = [
    auipc(T0, 0),
    addi(A2, T0, 0x28),
    csrr(A0, CSR_MHARTID),
    load(v.xlen, A1, T0, 0x20),
    load(v.xlen, T0, T0, 0x18),
    jr(T0),
  ];
  for (const [i, insn] of code.entries()) view.setUint32(i * 4, insn, true);
  view.setBigUint64(0x18, BigInt(v.start), true);
  view.setBigUint64(0x20, BigInt(v.dtb), true);
  const word = v.xlen / 8;
  const info = [FW_DYNAMIC_INFO_MAGIC, FW_DYNAMIC_INFO_VERSION, v.next, NEXT_MODE_S, 0, 0];
  info.forEach((value, i) => {
    if (word === 8) view.setBigUint64(0x28 + i * 8, BigInt(value), true);
    else view.setUint32(0x28 + i * 4, value, true);
  });
  return rom;
}
