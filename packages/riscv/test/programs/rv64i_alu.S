/* RV64I integer register-register and register-immediate operations, incl. the *W forms and shifts at edge amounts. */
#include "bp.h"
  .globl main
main:
  li s0, 0x7fffffffffffffff
  li s1, 0x8000000000000000
  li s2, -1
  li s3, 0x123456789abcdef0
  add a0, s0, s2
  CHECK(a0, 0x7ffffffffffffffe)
  add a0, s0, s0
  PRINT add_ovf, a0
  sub a0, s1, s2
  CHECK(a0, 0x8000000000000001)
  sub a0, zero, s1
  PRINT neg_min, a0
  addw a0, s0, zero
  CHECK(a0, -1)
  addiw a0, s3, 0x7ff
  PRINT addiw, a0
  subw a0, s1, s2
  CHECK(a0, 1)
  and a0, s3, s2
  PRINT and, a0
  or a0, s3, s1
  PRINT or, a0
  xor a0, s3, s2
  PRINT xor, a0
  andi a0, s3, -16
  PRINT andi, a0
  ori a0, zero, -2048
  CHECK(a0, -2048)
  xori a0, s3, -1
  PRINT xori, a0
  slt a0, s1, s0
  CHECK(a0, 1)
  sltu a0, s1, s0
  CHECK(a0, 0)
  slti a0, s2, 0
  CHECK(a0, 1)
  sltiu a0, s2, -1
  CHECK(a0, 0)
  sltiu a0, zero, 1
  CHECK(a0, 1)
  li t0, 63
  sll a0, s3, t0
  PRINT sll63, a0
  li t0, 64
  sll a0, s3, t0
  CHECK(a0, 0x123456789abcdef0)
  srl a0, s1, t0
  PRINT srl64, a0
  li t0, 127
  sra a0, s1, t0
  CHECK(a0, -1)
  srl a0, s1, t0
  CHECK(a0, 1)
  slli a0, s3, 4
  PRINT slli, a0
  srli a0, s2, 1
  CHECK(a0, 0x7fffffffffffffff)
  srai a0, s3, 36
  PRINT srai, a0
  li t0, 33
  sllw a0, s3, t0
  PRINT sllw, a0
  srlw a0, s2, t0
  CHECK(a0, 0x7fffffff)
  sraw a0, s3, t0
  PRINT sraw, a0
  slliw a0, s3, 31
  PRINT slliw, a0
  srliw a0, s1, 0
  CHECK(a0, 0)
  sraiw a0, s3, 17
  PRINT sraiw, a0
  lui a0, 0x80000
  CHECK(a0, 0xffffffff80000000)
  lui a0, 0x7ffff
  PRINT lui, a0
1:auipc a0, 0
  la a1, 1b
  sub a0, a0, a1
  CHECK(a0, 0)
  auipc a0, 0x80000
  sub a0, a0, a1
  PRINT auipc_delta, a0
  addi zero, zero, 5
  mv a0, zero
  CHECK(a0, 0)
  li a0, 0
  ret
