// Judged by QEMU: the same bare-metal program runs under qemu-system-riscv64
// (-M virt -bios none) and on the hart; it prints CSR read-backs and trap
// results as hex over the 16550 THR and ends by writing the sifive,test
// finisher. The two transcripts must be identical. QEMU runs with the
// extension set the hart implements (no H, no Sscofpmf/Svpbmt, no PMU
// counters, Zba/Zbb/Zbs and Sstc on). CSRs where QEMU 7.2 departs from the
// privileged spec's WARL rules (mstatus.UXL/VS, menvcfg/senvcfg CBIE/CBCFE/
// CBZE/PBMTE, 64-bit m/scounteren, mepc/sepc bit 0, pmpaddr bits 63:54,
// pmpcfg bits 6:5, Sv57) and the QEMU-version-specific marchid/mimpid are
// left out and listed in the README.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MmioDevice, NarrowWidth } from "@backplane/core";
import { AddressSpace } from "@backplane/memory";
import { describe, expect, it } from "vitest";
import { Hart, loadElf } from "../../src/index.js";
import { assemble, HAVE_TOOLCHAIN } from "./harness.js";

function haveQemu(): boolean {
  try {
    execFileSync("qemu-system-riscv64", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const READY = HAVE_TOOLCHAIN && haveQemu();

/** Prints "name=value\n" lines; ends with the finisher. */
const PRELUDE = `
  .option norvc
  .equ UART, 0x10000000
  .macro PUT reg
    mv a0, \\reg
    call puthex
  .endm
  .macro CSRX csr
    csrr s1, \\csr
    li t0, -1
    csrw \\csr, t0
    csrr a0, \\csr
    csrw \\csr, s1
    call puthex
  .endm
  la t0, trap; csrw mtvec, t0
  j main
# a0 -> 16 hex digits and a newline
puthex:
  li t1, 60
  li t2, UART
1:srl t3, a0, t1
  andi t3, t3, 15
  addi t3, t3, '0'
  li t4, '9'
  ble t3, t4, 2f
  addi t3, t3, 'a' - '9' - 1
2:lbu t4, 5(t2)            # wait for THR empty
  andi t4, t4, 0x20
  beqz t4, 2b
  sb t3, 0(t2)
  addi t1, t1, -4
  bgez t1, 1b
  li t3, 10
  sb t3, 0(t2)
  ret
# trap: print mcause, mtval; skip the 4-byte instruction
trap:
  mv s10, ra
  csrr a0, mcause; call puthex
  csrr a0, mtval;  call puthex
  csrr t5, mepc; addi t5, t5, 4; csrw mepc, t5
  mv ra, s10
  mret
finish:
  li t1, UART               # wait for the transmitter to drain (QEMU may still hold bytes)
4:lbu t0, 5(t1)
  andi t0, t0, 0x40
  beqz t0, 4b
  li t0, 0x5555
  li t1, 0x100000
  sw t0, 0(t1)
3:j 3b
main:
`;

const PROGRAMS: Record<string, string> = {
  "CSR write-all-ones read-backs": `
    li t0, -1; csrw mstatus, t0; csrr a0, mstatus; li t1, 0x3ff7f9ff; and a0, a0, t1; call puthex; csrw mstatus, zero
    CSRX misa
    li t0, 0xb3ff; csrw medeleg, t0; csrr a0, medeleg; call puthex; csrw medeleg, zero
    li t0, 0x222; csrw mideleg, t0; csrr a0, mideleg; call puthex
    li t0, 0xaaa; csrw mie, t0; csrr a0, mie; call puthex; csrw mie, zero
    li t0, 0x222; csrw mip, t0; csrr a0, mip; andi a0, a0, 0x222; call puthex; csrw mip, zero  # QEMU's CLINT raises MTIP
    csrr a0, sie; call puthex
    csrw mideleg, zero
    CSRX mtvec
    CSRX mscratch
    CSRX mcause
    CSRX mtval
    CSRX stvec
    CSRX sscratch
    CSRX scause
    CSRX stval
    CSRX sie
    CSRX sip
    li t0, 0x8000ff01; csrw menvcfg, t0; csrr a0, menvcfg; call puthex    # FIOM only
    li t0, 0x2; csrw mepc, t0; csrr a0, mepc; call puthex
    li t0, 0x5; csrw mtvec, t0; csrr a0, mtvec; call puthex              # vectored
    li t0, 0x6; csrw mtvec, t0; csrr a0, mtvec; call puthex              # reserved mode: ignored
    la t0, trap; csrw mtvec, t0
    li t0, 0x000f0f0f0f0f0f0f; csrw pmpaddr1, t0; csrr a0, pmpaddr1; call puthex
    li t0, 0x1f1b1911; csrw pmpcfg2, t0; csrr a0, pmpcfg2; call puthex
    csrw pmpcfg2, zero
    csrr a0, mhartid; call puthex
    csrr a0, mvendorid; call puthex
    li t0, (8 << 60) | 0x12345; csrw satp, t0; csrr a0, satp; call puthex
    li t0, (9 << 60) | 0x12345; csrw satp, t0; csrr a0, satp; call puthex
    li t0, (1 << 60) | 0x1; csrw satp, t0; csrr a0, satp; call puthex    # reserved: ignored
    csrw satp, zero
    j finish
  `,
  "exceptions and their tval": `
    la s0, data
    lw a0, 1(s0); call puthex        # misaligned load: performed
    ld a0, 3(s0); call puthex
    li t0, 0x1234
    sw t0, 5(s0)
    ld a0, 0(s0); call puthex
    .word 0xffffffff                  # illegal
    ebreak
    ecall
    li t0, 0x200000
    lw a0, 0(t0)                      # load access fault (unmapped on both)
    sd a0, 0(t0)                      # store access fault
    addi t1, s0, 4
    amoadd.d a0, t0, (t1)             # misaligned AMO
    addi t1, s0, 1
    lr.w a0, (t1)                     # misaligned LR
    addi t1, s0, 2
    sc.w a0, a0, (t1)                 # misaligned SC
    csrr a0, 0x7c0                    # unimplemented CSR
    csrw mvendorid, t0                # read-only CSR
    .word 0x0000000b                  # custom-0
    j finish
    .balign 8
  data: .dword 0x1122334455667788, 0x99aabbccddeeff00
  `,
};

function runQemu(elf: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "bp-qemu-"));
  try {
    writeFileSync(join(dir, "p.elf"), elf);
    // A file serial backend writes synchronously: nothing is lost when the finisher ends QEMU.
    const serial = join(dir, "serial.txt");
    try {
      execFileSync(
        "qemu-system-riscv64",
        [
          "-M",
          "virt",
          "-cpu",
          "rv64,h=false,sscofpmf=false,svpbmt=false,svinval=false,svnapot=false,pmu-num=0,zba=true,zbb=true,zbs=true,sstc=true",
          "-bios",
          "none",
          "-kernel",
          join(dir, "p.elf"),
          "-display",
          "none",
          "-monitor",
          "none",
          "-serial",
          `file:${serial}`,
        ],
        { stdio: "ignore", timeout: 20_000 },
      );
    } catch {
      // The finisher's exit status is not 0 for every code; the transcript is what matters.
    }
    return readFileSync(serial, "latin1");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runHart(elf: Uint8Array): string {
  let out = "";
  let done = false;
  const bus = new AddressSpace();
  bus.addRam("dram", 0x8000_0000, 1 << 20);
  const uart: MmioDevice = {
    size: 0x100,
    widths: [1],
    read: (o) => (o === 5 ? 0x60 : 0),
    write: (o, _w: NarrowWidth, v) => {
      if (o === 0) out += String.fromCharCode(v);
    },
  };
  const finisher: MmioDevice = {
    size: 0x1000,
    widths: [4],
    read: () => 0,
    write: () => {
      done = true;
    },
  };
  bus.addDevice("uart", 0x1000_0000, uart);
  bus.addDevice("test", 0x10_0000, finisher);
  const { entry } = loadElf(bus, elf);
  const hart = new Hart({ bus, resetPc: entry });
  for (let i = 0; i < 1000 && !done; i++) hart.run(10_000);
  return out;
}

describe.skipIf(!READY)(
  `agreement with QEMU 7.2${READY ? "" : " (skipped: needs qemu-system-misc and riscv64 binutils)"}`,
  () => {
    for (const [name, body] of Object.entries(PROGRAMS)) {
      it(name, () => {
        const elf = assemble(PRELUDE + body);
        const expected = runQemu(elf);
        expect(expected.length).toBeGreaterThan(16);
        expect(runHart(elf)).toBe(expected);
      });
    }
  },
);
