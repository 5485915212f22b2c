/* Prints a line and fails through the test device with code 42. */
#include "bp.h"
  .globl main
main:
  PUTS "hello from the guest\n"
  li a0, 42
  ret
