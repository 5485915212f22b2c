/*
 * Synchronous exceptions in M-mode and their mcause/mepc/mtval (privileged
 * spec 3.1.15-3.1.16, table 3.6): illegal instructions, breakpoints,
 * environment calls, access faults on unmapped physical addresses, misaligned
 * atomics, and an instruction access fault.
 * QEMU 7.2 choices this program pins (both allowed by the spec): mtval holds
 * the faulting instruction bits for illegal instructions and 0 for
 * breakpoints; misaligned ordinary loads and stores complete without a trap.
 * Not compared: misaligned AMOs and SCs. QEMU 7.2 reports a misaligned AMO as
 * a load (cause 4) instead of a store/AMO (cause 6) address-misaligned
 * exception, and lets an SC without reservation fail silently at a
 * misaligned address; both disagree with unprivileged spec 8.2-8.4.
 */
#include "bp.h"
  .globl main
main:
  mv s11, ra
  la t0, bp_trap_skip
  csrw mtvec, t0
  PUTS "illegal all-zero\n"
  .word 0
  PUTS "illegal all-ones\n"
  .word 0xffffffff
  PUTS "illegal compressed zero\n"
  .half 0
  PUTS "write to read-only csr\n"
  csrw mhartid, zero
  PUTS "unknown csr\n"
  csrr a0, 0x7ff
  PUTS "csrrs x0 to read-only csr is legal\n"
  csrrs zero, mhartid, zero
  PUTS "illegal opcode in OP-FP funct\n"
  .word 0xfe000053
  PUTS "reserved rvc c.addi4spn imm=0\n"
  .half 0x0004
  PUTS "ebreak\n"
  ebreak
  PUTS "c.ebreak\n"
  c.ebreak
  PUTS "ecall\n"
  ecall
  PUTS "load access fault\n"
  li t1, 0x4
  lw a0, 0(t1)
  PUTS "store access fault\n"
  sd a0, 8(t1)
  PUTS "load beyond ram\n"
  li t1, 0x90000000
  ld a0, 0(t1)
  PUTS "misaligned lr\n"
  la t1, data
  addi t1, t1, 2
  lr.w a0, (t1)
  PUTS "misaligned load\n"
  la t1, data
  li t0, 0x1122334455667788
  sd t0, 0(t1)
  sd t0, 8(t1)
  ld a0, 3(t1)
  PRINT ld3, a0
  lw a0, 1(t1)
  PRINT lw1, a0
  lh a0, 7(t1)
  PRINT lh7, a0
  sw zero, 5(t1)
  ld a0, 0(t1)
  PRINT sw5, a0
  PUTS "instruction access fault\n"
  la t0, fetch_fault
  csrw mtvec, t0
  li t1, 0x100
  jalr ra, 0(t1)
  PUTS "back\n"
  mv ra, s11
  li a0, 0
  ret

  .align 2
fetch_fault:
  csrr t0, mcause
  PRINT mcause, t0
  csrr t0, mepc
  PRINT mepc, t0
  csrr t0, mtval
  PRINT mtval, t0
  csrw mepc, ra
  la t0, bp_trap_skip
  csrw mtvec, t0
  mret

  .data
  .align 3
data: .space 32
