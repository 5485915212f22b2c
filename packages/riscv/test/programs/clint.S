/*
 * Interrupts through the CLINT (SiFive CLINT as on QEMU virt: msip at +0,
 * mtimecmp at +0x4000, mtime at +0xbff8) and the hart's interrupt logic
 * (privileged spec 3.1.9 mip/mie, 3.1.6.1 global enables, priority
 * MEI > MSI > MTI > SEI > SSI > STI): software and timer interrupts, WFI wake-up
 * with interrupts globally disabled, priority between two pending interrupts,
 * and a supervisor software interrupt delegated through mideleg.
 */
#include "bp.h"
#define MSIP (CLINT + 0)
#define MTIMECMP (CLINT + 0x4000)
#define MTIME (CLINT + 0xbff8)
  .globl main
main:
  mv s11, ra
  PMP_ALLOW_ALL
  la t0, m_handler
  csrw mtvec, t0
  li s0, MSIP
  li s1, MTIMECMP
  li s2, MTIME
  li t0, -1
  sd t0, 0(s1)
  /* software interrupt pending while disabled */
  li t0, 1
  sw t0, 0(s0)
  csrr a0, mip
  andi a0, a0, 0x88
  PRINT mip_msip, a0
  lw a0, 0(s0)
  CHECK(a0, 1)
  /* enabling MSIE and then mstatus.MIE takes it right after the CSR write */
  li t0, 1 << 3
  csrs mie, t0
  li s3, 0
  csrsi mstatus, 8
after_enable:
  CHECK(s3, 1)
  la t0, after_enable
  sub a0, s4, t0
  CHECK(a0, 0)
  csrci mstatus, 8
  /* timer interrupt wakes WFI */
  ld t1, 0(s2)
  addi t1, t1, 100
  sd t1, 0(s1)
  li t0, 1 << 7
  csrs mie, t0
  li s3, 0
  /* WFI with mstatus.MIE clear, then open a one-instruction window: no lost wake-up */
1:wfi
  csrsi mstatus, 8
  csrci mstatus, 8
  beqz s3, 1b
  PUTS "timer done\n"
  ld t2, 0(s2)
  bgeu t2, t1, 2f
  li a0, 3
  j bp_fail
2:
  /* WFI with the interrupt enabled in mie but globally disabled wakes and falls through */
  sd zero, 0(s1)
  wfi
  csrr a0, mip
  andi a0, a0, 0x80
  PRINT mip_mtip, a0
  li t0, -1
  sd t0, 0(s1)
  csrr a0, mip
  andi a0, a0, 0x80
  CHECK(a0, 0)
  /* two pending: MSI is taken before MTI */
  li t0, 1
  sw t0, 0(s0)
  sd zero, 0(s1)
  li s3, 0
  csrsi mstatus, 8
  nop
  csrci mstatus, 8
  CHECK(s3, 2)
  /* supervisor software interrupt delegated to S */
  li t0, 1 << 1
  csrw mideleg, t0
  la t0, s_handler
  csrw stvec, t0
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, in_s
  csrw mepc, t0
  mret
in_s:
  li t0, 1 << 1
  csrs sie, t0
  csrs sip, t0
  csrr a0, sip
  andi a0, a0, 2
  PRINT sip_pending, a0
  li s3, 0
  csrsi sstatus, 2
  nop
  csrci sstatus, 2
  CHECK(s3, 1)
  ebreak
  csrw mideleg, zero
  csrw mie, zero
  mv ra, s11
  li a0, 0
  ret

/* M handler: counts interrupts in s3, records mepc in s4, silences the source. */
  .align 2
m_handler:
  csrrw sp, mscratch, sp
  addi sp, sp, -2*REGBYTES
  SREG t0, 0(sp)
  csrr t0, mcause
  PRINT mcause, t0
  bltz t0, 1f
  /* ebreak from S: return in M after it */
  li t0, 3 << 11
  csrs mstatus, t0
  SREG t1, REGBYTES(sp)
  SKIP_MEPC
  LREG t1, REGBYTES(sp)
  j 9f
1:addi s3, s3, 1
  csrr s4, mepc
  slli t0, t0, 1
  srli t0, t0, 1
  li t6, 3
  bne t0, t6, 2f
  sw zero, 0(s0)
  j 9f
2:li t0, -1
  sd t0, 0(s1)
9:LREG t0, 0(sp)
  addi sp, sp, 2*REGBYTES
  csrrw sp, mscratch, sp
  mret

/* S handler: counts in s3 and clears sip.SSIP. */
  .align 2
s_handler:
  csrw sscratch, t0
  csrr t0, scause
  PRINT scause, t0
  addi s3, s3, 1
  li t0, 1 << 1
  csrc sip, t0
  csrr t0, sscratch
  sret
