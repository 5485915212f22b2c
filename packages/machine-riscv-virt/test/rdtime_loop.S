/*
 * The time CSR advances while the hart runs (Zicntr; privileged spec 3.1.11
 * on mtime): two reads of `time` around 4000 instructions differ, as on QEMU
 * (host time, or -icount). Linux's jitter entropy source and its unaligned-
 * access probe time short loops with rdtime.
 */
#include "bp.h"
  .globl main
main:
  csrr s0, time
  li t0, 2000
1:addi t0, t0, -1
  bnez t0, 1b
  csrr s1, time
  sub s1, s1, s0
  bnez s1, 2f
  PUTS "time stood still\n"
  li a0, 1
  ret
2:PUTS "time advanced\n"
  li a0, 0
  ret
