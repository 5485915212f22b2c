/* RV32I and RV32M (unprivileged spec chapters 2 and 7) on a 32-bit hart: ALU, shifts masked to 5 bits, sign extension of loads, MULH variants, division by zero and overflow. */
#include "bp.h"
  .globl main
main:
  li s0, 0x7fffffff
  li s1, 0x80000000
  li s2, -1
  li s3, 0x9abcdef0
  add a0, s0, s0
  PRINT add, a0
  sub a0, s1, s2
  CHECK(a0, 0x80000001)
  slt a0, s1, s0
  CHECK(a0, 1)
  sltu a0, s1, s0
  CHECK(a0, 0)
  li t0, 33
  sll a0, s3, t0
  CHECK(a0, 0x3579bde0)
  srl a0, s1, t0
  CHECK(a0, 0x40000000)
  sra a0, s1, t0
  CHECK(a0, 0xc0000000)
  srai a0, s3, 31
  CHECK(a0, -1)
  lui a0, 0xfffff
  PRINT lui, a0
  mul a0, s3, s3
  PRINT mul, a0
  mulh a0, s3, s3
  PRINT mulh, a0
  mulhu a0, s3, s3
  PRINT mulhu, a0
  mulhsu a0, s3, s3
  PRINT mulhsu, a0
  mulh a0, s1, s1
  CHECK(a0, 0x40000000)
  div a0, s1, s2
  CHECK(a0, 0x80000000)
  rem a0, s1, s2
  CHECK(a0, 0)
  div a0, s3, zero
  CHECK(a0, -1)
  remu a0, s3, zero
  CHECK(a0, 0x9abcdef0)
  divu a0, s3, s0
  CHECK(a0, 1)
  rem a0, s3, s0
  PRINT rem, a0
  la t1, buf
  sw s3, 0(t1)
  lb a0, 0(t1)
  CHECK(a0, 0xfffffff0)
  lbu a0, 3(t1)
  CHECK(a0, 0x9a)
  lh a0, 2(t1)
  CHECK(a0, 0xffff9abc)
  lhu a0, 0(t1)
  CHECK(a0, 0xdef0)
  sh s0, 4(t1)
  sb s1, 6(t1)
  lw a0, 4(t1)
  PRINT sw, a0
  /* 64-bit counters are split into halves on RV32 */
  csrr a0, minstreth
  csrr a1, mcycleh
  li a0, 0
  ret
  .data
  .align 3
buf: .space 16
