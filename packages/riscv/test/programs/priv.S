/*
 * Privilege switches (privileged spec 3.1.6, 3.3.2, 4.1.1): MRET into S and U
 * with MPP/MPIE, ECALL from each mode, exception delegation to S through
 * medeleg with SRET back, S-mode access to M-mode CSRs, U-mode access to
 * S-mode CSRs, SRET from U, and mstatus.TSR/TVM/TW effects.
 */
#include "bp.h"
/* ENTER mode: mret to the next instruction in `mode` (0 = U, 1 = S). */
.macro ENTER mode
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, \mode << 11
  csrs mstatus, t0
  la t0, .Lenter\@
  csrw mepc, t0
  mret
.Lenter\@:
.endm
  .globl main
main:
  mv s11, ra
  PMP_ALLOW_ALL
  la t0, m_handler
  csrw mtvec, t0
  la t0, s_handler
  csrw stvec, t0
  /* mret into S: mstatus.MPP becomes U (least privileged), MPIE set */
  li t0, 1 << 3
  csrs mstatus, t0
  ENTER 1
  PUTS "in S\n"
  li a7, 1
  ecall
  csrr a0, sstatus
  PRINT sstatus_in_s, a0
  PUTS "S reads mstatus\n"
  csrr a0, mstatus
  PUTS "S reads sscratch\n"
  li a0, 0x55
  csrw sscratch, a0
  csrr a1, sscratch
  CHECK(a1, 0x55)
  PUTS "S executes mret\n"
  mret
  li a7, 2
  ecall
  wfi
  /* sret to U */
  li t0, 1 << 8
  csrc sstatus, t0
  la t0, in_u
  csrw sepc, t0
  sret
in_u:
  PUTS "in U\n"
  li a7, 3
  ecall
  PUTS "U reads sstatus\n"
  csrr a0, sstatus
  PUTS "U executes sret\n"
  sret
  PUTS "U reads cycle with mcounteren=0\n"
  csrr a0, cycle
  PUTS "U executes wfi\n"
  wfi
  /* delegate ecall-from-U and illegal instruction to S */
  li a7, 4
  ecall
  PUTS "delegated U ecall\n"
  ecall
  PUTS "delegated U illegal\n"
  .word 0xffffffff
  PUTS "back to M through a breakpoint\n"
  ebreak
  PUTS "done\n"
  csrr a0, mstatus
  li t0, (3 << 11) | (1 << 7) | (1 << 8) | (1 << 5) | (1 << 3) | (1 << 1)
  and a0, a0, t0
  PRINT mstatus_end, a0
  mv ra, s11
  li a0, 0
  ret

/*
 * M-mode handler: prints the cause and the mode it came from (MPP), then
 * either skips the instruction or performs the service in a7:
 * 1: nothing; 2: set TW and go back in S; 3: nothing; 4: delegate U ecall and
 * illegal instruction to S. A breakpoint returns to M mode at the next
 * instruction.
 */
  .align 2
m_handler:
  csrrw sp, mscratch, sp
  addi sp, sp, -4*REGBYTES
  SREG t0, 0(sp)
  SREG t1, REGBYTES(sp)
  SREG ra, 2*REGBYTES(sp)
  csrr t0, mcause
  PRINT m_mcause, t0
  csrr t1, mstatus
  srli t1, t1, 11
  andi t1, t1, 3
  PRINT m_mpp, t1
  csrr t1, mtval
  PRINT m_mtval, t1
  li t1, 3
  bne t0, t1, 1f
  li t1, 3 << 11
  csrs mstatus, t1
  j m_skip
1:li t1, 8
  blt t0, t1, m_skip
  li t1, 11
  bgt t0, t1, m_skip
  /* environment call: service in a7 */
  li t1, 2
  bne a7, t1, 1f
  li t1, 1 << 21
  csrs mstatus, t1
  PUTS "S executes wfi with TW=1\n"
  j m_skip
1:li t1, 4
  bne a7, t1, m_skip
  li t1, (1 << 8) | (1 << 2)
  csrw medeleg, t1
m_skip:
  SKIP_MEPC
  LREG t0, 0(sp)
  LREG t1, REGBYTES(sp)
  LREG ra, 2*REGBYTES(sp)
  addi sp, sp, 4*REGBYTES
  csrrw sp, mscratch, sp
  mret

/* S-mode handler: prints scause, SPP and stval, skips the instruction. */
  .align 2
s_handler:
  csrw sscratch, t0
  csrr t0, scause
  PRINT s_scause, t0
  csrr t0, sstatus
  srli t0, t0, 8
  andi t0, t0, 1
  PRINT s_spp, t0
  csrr t0, stval
  PRINT s_stval, t0
  csrr t0, sepc
  addi t0, t0, 4
  csrw sepc, t0
  csrr t0, sscratch
  sret
