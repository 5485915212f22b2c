/* RV64A: LR/SC success and failure, every AMO in word and doubleword width with their sign extension (unprivileged spec chapter 8). */
#include "bp.h"
.macro AMO_CASE op, width, name, init, operand
  li t0, \init
  s\width t0, 0(s0)
  li t1, \operand
  \op a0, t1, (s0)
  PRINT \name\()_old, a0
  l\width a1, 0(s0)
  PRINT \name\()_new, a1
.endm
  .globl main
main:
  mv s11, ra
  la s0, word
  /* LR/SC pair succeeds */
  li t0, 5
  sd t0, 0(s0)
  lr.d a0, (s0)
  addi a0, a0, 1
  sc.d a1, a0, (s0)
  CHECK(a1, 0)
  ld a2, 0(s0)
  CHECK(a2, 6)
  /* SC without reservation fails and does not write */
  li t0, 99
  sc.d a1, t0, (s0)
  PRINT sc_nores, a1
  bnez a1, 1f
  li a0, 2
  j bp_fail
1:ld a2, 0(s0)
  CHECK(a2, 6)
  /* SC to a different address than the reservation fails */
  lr.w a0, (s0)
  addi t0, s0, 8
  sc.w a1, a0, (t0)
  PRINT sc_other, a1
  /* word LR sign-extends */
  li t0, 0x80000001
  sw t0, 0(s0)
  lr.w.aq a0, (s0)
  CHECK(a0, 0xffffffff80000001)
  sc.w.rl a1, zero, (s0)
  CHECK(a1, 0)
  lw a2, 0(s0)
  CHECK(a2, 0)
  AMO_CASE amoswap.w, w, swapw, 0x11111111, 0xfffffff0
  AMO_CASE amoadd.w, w, addw, 0x7fffffff, 1
  AMO_CASE amoxor.w, w, xorw, 0x0f0f0f0f, 0xffff0000
  AMO_CASE amoand.w, w, andw, 0x0f0f0f0f, 0xff00ff00
  AMO_CASE amoor.w, w, orw, 0x0f0f0f0f, 0x80000000
  AMO_CASE amomin.w, w, minw, 0x7fffffff, 0x80000000
  AMO_CASE amomax.w, w, maxw, 0x7fffffff, 0x80000000
  AMO_CASE amominu.w, w, minuw, 0x7fffffff, 0x80000000
  AMO_CASE amomaxu.w, w, maxuw, 0x7fffffff, 0x80000000
  AMO_CASE amoswap.d, d, swapd, 0x1111111111111111, -16
  AMO_CASE amoadd.d, d, addd, 0x7fffffffffffffff, 1
  AMO_CASE amoxor.d, d, xord, 0x0f0f0f0f0f0f0f0f, -65536
  AMO_CASE amoand.d, d, andd, 0x0f0f0f0f0f0f0f0f, 0xff00ff00ff00ff00
  AMO_CASE amoor.d, d, ord, 0x0f0f0f0f0f0f0f0f, 0x8000000000000000
  AMO_CASE amomin.d, d, mind, 0x7fffffffffffffff, 0x8000000000000000
  AMO_CASE amomax.d, d, maxd, 0x7fffffffffffffff, 0x8000000000000000
  AMO_CASE amominu.d, d, minud, 0x7fffffffffffffff, 0x8000000000000000
  AMO_CASE amomaxu.d, d, maxud, 0x7fffffffffffffff, 0x8000000000000000
  /* amo with rd = x0 still writes memory */
  li t0, 3
  sd t0, 0(s0)
  amoadd.d.aqrl zero, t0, (s0)
  ld a0, 0(s0)
  CHECK(a0, 6)
  /* the upper word next to a word AMO is untouched */
  li t0, -1
  sd t0, 0(s0)
  amoand.w a0, zero, (s0)
  ld a0, 0(s0)
  CHECK(a0, 0xffffffff00000000)
  mv ra, s11
  li a0, 0
  ret
  .data
  .align 3
word: .space 16
