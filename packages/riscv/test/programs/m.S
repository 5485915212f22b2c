/* RV64M: MUL/MULH/MULHSU/MULHU/DIV/DIVU/REM/REMU and the *W forms, incl. division by zero and signed overflow (unprivileged spec 7.2, table 7.1). */
#include "bp.h"
  .globl main
main:
  li s0, 0x8000000000000000
  li s1, -1
  li s2, 0x123456789abcdef0
  li s3, 7
  mul a0, s2, s3
  PRINT mul, a0
  mulh a0, s2, s1
  CHECK(a0, -1)
  mulh a0, s0, s0
  CHECK(a0, 0x4000000000000000)
  mulhu a0, s1, s1
  CHECK(a0, 0xfffffffffffffffe)
  mulhsu a0, s1, s1
  CHECK(a0, -1)
  mulhsu a0, s2, s1
  PRINT mulhsu, a0
  mulh a0, s2, s2
  PRINT mulh, a0
  mulhu a0, s2, s0
  PRINT mulhu, a0
  mulw a0, s2, s3
  PRINT mulw, a0
  /* division */
  li t0, -7
  li t1, 2
  div a0, t0, t1
  CHECK(a0, -3)
  rem a0, t0, t1
  CHECK(a0, -1)
  divu a0, t0, t1
  CHECK(a0, 0x7ffffffffffffffc)
  remu a0, t0, t1
  CHECK(a0, 1)
  /* divide by zero: quotient all ones, remainder = dividend */
  div a0, s2, zero
  CHECK(a0, -1)
  divu a0, s2, zero
  CHECK(a0, -1)
  rem a0, s2, zero
  CHECK(a0, 0x123456789abcdef0)
  remu a0, t0, zero
  CHECK(a0, -7)
  /* overflow: -2^63 / -1 = -2^63, remainder 0 */
  div a0, s0, s1
  CHECK(a0, 0x8000000000000000)
  rem a0, s0, s1
  CHECK(a0, 0)
  /* word forms */
  li t2, 0xffffffff80000000
  divw a0, t2, s1
  CHECK(a0, 0xffffffff80000000)
  remw a0, t2, s1
  CHECK(a0, 0)
  divw a0, s2, zero
  CHECK(a0, -1)
  divuw a0, s2, zero
  CHECK(a0, -1)
  remw a0, s2, zero
  CHECK(a0, 0xffffffff9abcdef0)
  remuw a0, s2, zero
  CHECK(a0, 0xffffffff9abcdef0)
  divuw a0, s1, t1
  CHECK(a0, 0x7fffffff)
  li t3, 0x100000005
  divw a0, t3, t1
  CHECK(a0, 2)
  remuw a0, s2, s3
  PRINT remuw, a0
  divw a0, s2, s3
  PRINT divw, a0
  div a0, s2, t0
  PRINT div, a0
  rem a0, s2, t0
  PRINT rem, a0
  li a0, 0
  ret
