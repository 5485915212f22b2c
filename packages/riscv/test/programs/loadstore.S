/* Loads and stores of every width (LB/LBU/LH/LHU/LW/LWU/LD, SB/SH/SW/SD), sign and zero extension, negative offsets and little-endian byte order. */
#include "bp.h"
  .globl main
main:
  la s0, buf
  li t0, 0x8182838485868788
  sd t0, 0(s0)
  lb a0, 0(s0)
  CHECK(a0, 0xffffffffffffff88)
  lbu a0, 0(s0)
  CHECK(a0, 0x88)
  lb a0, 7(s0)
  PRINT lb7, a0
  lh a0, 2(s0)
  CHECK(a0, 0xffffffffffff8586)
  lhu a0, 6(s0)
  PRINT lhu6, a0
  lw a0, 4(s0)
  CHECK(a0, 0xffffffff81828384)
  lwu a0, 4(s0)
  CHECK(a0, 0x81828384)
  ld a0, 0(s0)
  PRINT ld0, a0
  li t1, 0x7f6e5d4c3b2a1908
  sd t1, 8(s0)
  lb a0, 8(s0)
  CHECK(a0, 8)
  lh a0, 14(s0)
  CHECK(a0, 0x7f6e)
  lw a0, 12(s0)
  CHECK(a0, 0x7f6e5d4c)
  /* narrow stores into a known doubleword */
  sd zero, 16(s0)
  li t2, 0xaabbccddeeff1122
  sb t2, 16(s0)
  sh t2, 18(s0)
  sw t2, 20(s0)
  ld a0, 16(s0)
  CHECK(a0, 0xeeff112211220022)
  PRINT narrow, a0
  /* negative offsets */
  addi s1, s0, 32
  sd t0, -8(s1)
  lw a0, -4(s1)
  PRINT neg_off, a0
  lbu a0, -1(s1)
  CHECK(a0, 0x81)
  /* misaligned-in-doubleword but aligned-per-width accesses */
  sh t2, 26(s0)
  lhu a0, 26(s0)
  CHECK(a0, 0x1122)
  /* loads into x0 are discarded */
  lw zero, 0(s0)
  mv a0, zero
  CHECK(a0, 0)
  /* dump the whole buffer */
  ld a0, 0(s0)
  PRINT buf0, a0
  ld a0, 8(s0)
  PRINT buf8, a0
  ld a0, 16(s0)
  PRINT buf16, a0
  ld a0, 24(s0)
  PRINT buf24, a0
  li a0, 0
  ret
  .data
  .align 3
buf: .space 64
