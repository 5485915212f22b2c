# Entry point of the QEMU peer probe: M-mode, hart 0 only, stack below 0x80100000.
  .section .text.start
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, park
  li sp, 0x80100000
  call main
park:
  wfi
  j park
