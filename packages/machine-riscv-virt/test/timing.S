/*
 * Prints values that depend on how guest time relates to executed
 * instructions: the `time` CSR (Zicntr; privileged spec 3.1.11 on mtime)
 * across a fixed loop, and how many polls it takes for `time` to move 2000
 * ticks. In host time they vary from run to run; in virtual time (time
 * follows retired instructions) they must repeat exactly.
 */
#include "bp.h"
  .globl main
main:
  csrr s0, time
  li t0, 3000
1:addi t0, t0, -1
  bnez t0, 1b
  csrr s1, time
  sub s1, s1, s0
  PRINT dt, s1
  csrr s2, time
  li t1, 2000
  add s2, s2, t1
  li s3, 0
2:addi s3, s3, 1
  csrr t2, time
  bltu t2, s2, 2b
  PRINT polls, s3
  li a0, 0
  ret
