/*
 * Sv39 virtual memory (privileged spec 4.3-4.4): three-level walks with 1 GiB
 * superpages and 4 KiB pages, permission checks (R/W/X, U with SUM, MXR),
 * invalid and reserved encodings, misaligned superpages, non-canonical
 * addresses, page faults with their scause-style causes and tval, hardware
 * A/D bit updates, SFENCE.VMA after a PTE change, and U-mode isolation.
 * QEMU 7.2 updates A and D in hardware (privileged spec 4.3.1 allows this or
 * a page fault); this program pins the hardware-update behaviour.
 */
#include "bp.h"
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_U 16
#define PTE_A 64
#define PTE_D 128
#define VBASE 0x40000000

/* SETPTE table, index, physreg, flags: table[index] = (phys >> 12) << 10 | flags */
.macro SETPTE table, index, phys, flags
  la t0, \table
  srli t1, \phys, 12
  slli t1, t1, 10
  ori t1, t1, \flags
  sd t1, (\index * 8)(t0)
.endm
.macro LOADPTE reg, index
  la t0, l0
  ld \reg, (\index * 8)(t0)
.endm

  .globl main
main:
  mv s11, ra
  PMP_ALLOW_ALL
  la t0, m_handler
  csrw mtvec, t0
  /* level 2: VA 0 -> PA 0 (devices), VA 0x80000000 -> RAM, both 1 GiB */
  li t2, 0
  SETPTE l2, 0, t2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  li t2, 0x80000000
  SETPTE l2, 2, t2, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  /* VA 0xc0000000: superpage with a misaligned PPN */
  li t2, 0x80001000
  SETPTE l2, 3, t2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  /* VA 0x40000000 -> l1 -> l0 */
  la t2, l1
  SETPTE l2, 1, t2, PTE_V
  la t2, l0
  SETPTE l1, 0, t2, PTE_V
  la t2, page0
  SETPTE l0, 0, t2, PTE_V | PTE_R | PTE_W
  SETPTE l0, 1, t2, PTE_V | PTE_R | PTE_A
  SETPTE l0, 3, t2, PTE_V | PTE_X | PTE_A
  SETPTE l0, 4, t2, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
  SETPTE l0, 5, t2, PTE_V | PTE_W | PTE_A | PTE_D
  la t2, page1
  SETPTE l0, 6, t2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  /* a non-leaf at the last level is a fault: l0[7] points to l0 */
  la t2, l0
  SETPTE l0, 7, t2, PTE_V
  li t0, 0x1111111111111111
  la t1, page0
  sd t0, 0(t1)
  li t0, 0x2222222222222222
  la t1, page1
  sd t0, 0(t1)
  /* satp = Sv39 | root PPN */
  la t0, l2
  srli t0, t0, 12
  li t1, 8 << 60
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  /* enter S mode */
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, in_s
  csrw mepc, t0
  mret
in_s:
  li s0, VBASE
  PUTS "load from page with A=0\n"
  ld a0, 0(s0)
  PRINT value0, a0
  LOADPTE a0, 0
  andi a0, a0, 0xff
  PRINT pte0_after_load, a0
  PUTS "store to page with D=0\n"
  li a1, 0x3333
  sd a1, 8(s0)
  LOADPTE a0, 0
  andi a0, a0, 0xff
  PRINT pte0_after_store, a0
  PUTS "store to read-only page\n"
  li t3, VBASE + 0x1000
  sd a1, 0(t3)
  PUTS "load from invalid page\n"
  li t3, VBASE + 0x2000
  ld a0, 0(t3)
  PUTS "load from execute-only page\n"
  li t3, VBASE + 0x3000
  ld a0, 0(t3)
  PUTS "load from execute-only page with MXR\n"
  li t0, 1 << 19
  csrs sstatus, t0
  ld a0, 0(t3)
  PRINT mxr_value, a0
  csrc sstatus, t0
  PUTS "S load from U page\n"
  li t3, VBASE + 0x4000
  ld a0, 0(t3)
  PUTS "S load from U page with SUM\n"
  li t0, 1 << 18
  csrs sstatus, t0
  ld a0, 0(t3)
  PRINT sum_value, a0
  csrc sstatus, t0
  PUTS "write-only page is reserved\n"
  li t3, VBASE + 0x5000
  sd a0, 0(t3)
  PUTS "non-leaf pte at level 0\n"
  li t3, VBASE + 0x7000
  ld a0, 0(t3)
  PUTS "misaligned superpage\n"
  li t3, 0xc0000000
  ld a0, 0(t3)
  PUTS "non-canonical address\n"
  li t3, 0x0000004000000000
  ld a0, 0(t3)
  PUTS "unmapped upper half\n"
  li t3, 0xffffffffc0000000
  sw a0, 0(t3)
  PUTS "fetch from non-executable page\n"
  li t3, VBASE
  jalr ra, 0(t3)
  PUTS "remap and sfence.vma\n"
  li t3, VBASE + 0x6000
  ld a0, 0(t3)
  PRINT before_remap, a0
  la t2, page0
  SETPTE l0, 6, t2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  sfence.vma t3
  ld a0, 0(t3)
  PRINT after_remap, a0
  PUTS "amo on read-only page\n"
  li t3, VBASE + 0x1000
  amoadd.d a0, a1, (t3)
  PUTS "lr on invalid page\n"
  li t3, VBASE + 0x2000
  lr.d a0, (t3)
  /* back to M through ebreak and finish */
  ebreak
  csrw satp, zero
  mv ra, s11
  li a0, 0
  ret

/* M-mode handler: reports mcause/mtval/MPP; instruction faults return to ra, ebreak returns in M */
  .align 2
m_handler:
  csrrw sp, mscratch, sp
  addi sp, sp, -4*REGBYTES
  SREG t0, 0(sp)
  SREG t1, REGBYTES(sp)
  csrr t0, mcause
  PRINT mcause, t0
  csrr t1, mtval
  PRINT mtval, t1
  li t1, 3
  bne t0, t1, 1f
  li t1, 3 << 11
  csrs mstatus, t1
  j 3f
1:li t1, 12
  bne t0, t1, 3f
  csrw mepc, ra
  j 4f
3:SKIP_MEPC
4:LREG t0, 0(sp)
  LREG t1, REGBYTES(sp)
  addi sp, sp, 4*REGBYTES
  csrrw sp, mscratch, sp
  mret

  .bss
  .align 12
l2: .space 4096
l1: .space 4096
l0: .space 4096
page0: .space 4096
page1: .space 4096
