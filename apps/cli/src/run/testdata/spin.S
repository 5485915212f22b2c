/* Prints a prompt and spins forever, waiting for the console user to quit. */
#include "bp.h"
  .globl main
main:
  PUTS "spinning\n"
1:j 1b
