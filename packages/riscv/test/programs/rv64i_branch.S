/* RV64I control transfer: every branch condition taken and not taken, JAL/JALR link values, JALR clearing bit 0 of the target. */
#include "bp.h"
  .globl main
main:
  mv s11, ra
  li s0, -1
  li s1, 1
  li s2, 0
  /* s2 collects one bit per branch outcome */
  beq s1, s1, 1f
  j fail
1:ori s2, s2, 1
  beq s0, s1, fail
  bne s0, s1, 1f
  j fail
1:ori s2, s2, 2
  bne s1, s1, fail
  blt s0, s1, 1f
  j fail
1:ori s2, s2, 4
  blt s1, s0, fail
  blt s1, s1, fail
  bge s1, s0, 1f
  j fail
1:ori s2, s2, 8
  bge s1, s1, 1f
  j fail
1:ori s2, s2, 16
  bge s0, s1, fail
  bltu s1, s0, 1f
  j fail
1:ori s2, s2, 32
  bltu s0, s1, fail
  bgeu s0, s1, 1f
  j fail
1:ori s2, s2, 64
  bgeu s1, s0, fail
  bgeu s0, s0, 1f
  j fail
1:ori s2, s2, 128
  CHECK(s2, 0xff)
  /* jal link = address of next instruction */
  jal a0, 2f
3:j fail
2:la a1, 3b
  sub a0, a0, a1
  CHECK(a0, 0)
  /* jalr with odd target: bit 0 cleared */
  la a1, 4f
  addi a1, a1, 1
  jalr a2, 0(a1)
  j fail
4:la a3, 4b
  sub a2, a3, a2
  PRINT jalr_link_delta, a2
  /* jalr with rd == rs1 uses the old rs1 */
  la a4, 5f
  jalr a4, 0(a4)
5:la a5, 5b
  sub a4, a4, a5
  CHECK(a4, 0)
  /* backwards loop with a counter */
  li t0, 10
  li t1, 0
6:add t1, t1, t0
  addi t0, t0, -1
  bnez t0, 6b
  CHECK(t1, 55)
  PRINT loop_sum, t1
  /* call/ret through ra */
  call leaf
  CHECK(a0, 0x42)
  mv ra, s11
  li a0, 0
  ret
leaf:
  li a0, 0x42
  ret
fail:
  li a0, 1
  j bp_fail
