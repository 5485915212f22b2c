/* RV32 A and F plus traps on a 32-bit hart: AMOs, LR/SC, single-precision arithmetic and conversions with rounding modes, ecall and illegal-instruction causes, mstatush. */
#include "bp.h"
  .globl main
main:
  mv s11, ra
  la s0, word
  li t0, 0x7fffffff
  sw t0, 0(s0)
  li t1, 1
  amoadd.w a0, t1, (s0)
  lw a1, 0(s0)
  PRINT amoadd_old, a0
  PRINT amoadd_new, a1
  amomin.w a0, t1, (s0)
  lw a1, 0(s0)
  PRINT amomin_new, a1
  amomaxu.w a0, t1, (s0)
  lw a1, 0(s0)
  PRINT amomaxu_new, a1
  lr.w a0, (s0)
  sc.w a1, t1, (s0)
  CHECK(a1, 0)
  sc.w a1, t1, (s0)
  CHECK(a1, 1)
  li t0, 1 << 13
  csrs mstatus, t0
  li t0, 0x3f800000
  fmv.w.x fa0, t0
  li t0, 0x40400000
  fmv.w.x fa1, t0
  fdiv.s fa2, fa0, fa1, rup
  PRINTF div_rup, fa2
  PRINT_FFLAGS div_rup_fl
  fdiv.s fa2, fa0, fa1, rdn
  PRINTF div_rdn, fa2
  fcvt.w.s a0, fa2, rtz
  PRINT cvt, a0
  li t0, 0x4f800000
  fmv.w.x fa3, t0
  fcvt.wu.s a0, fa3, rtz
  PRINT cvtwu_big, a0
  PRINT_FFLAGS cvtwu_big_fl
  li s2, -1
  fcvt.s.wu fa4, s2, rne
  PRINTF cvtswu, fa4
  li t0, 0x12345678
  fcvt.s.w fa4, t0, rtz
  PRINTF cvtsw_rtz, fa4
  PRINT_FFLAGS cvtsw_rtz_fl
  fsqrt.s fa5, fa1
  PRINTF sqrt3, fa5
  PRINT_FFLAGS sqrt3_fl
  la t0, bp_trap_skip
  csrw mtvec, t0
  ecall
  .word 0xffffffff
  csrr a0, mstatush
  PRINT mstatush, a0
  /* RV64-only instructions are illegal on RV32 */
  .word 0x0000003b
  la t0, bp_unexpected_trap
  csrw mtvec, t0
  mv ra, s11
  li a0, 0
  ret
  .data
  .align 3
word: .space 16
