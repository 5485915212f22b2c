/*
 * A tiny S-mode kernel for OpenSBI's fw_jump: position-independent, loaded
 * raw at 0x80200000. Prints the hart id (a0), the DTB address (a1) and the
 * DTB's magic through the legacy SBI console (EID 1), then powers off through
 * the test device.
 */
  .text
  .globl _start
_start:
  mv s0, a0
  mv s1, a1
  la a0, hart_str
  call puts
  mv a0, s0
  call puthex
  la a0, dtb_str
  call puts
  mv a0, s1
  call puthex
  la a0, magic_str
  call puts
  lwu a0, 0(s1)
  call puthex
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1:j 1b

/* puts(a0): legacy SBI console_putchar for each byte */
puts:
  mv t2, a0
1:lbu a0, 0(t2)
  beqz a0, 2f
  li a7, 1
  ecall
  addi t2, t2, 1
  j 1b
2:ret

/* puthex(a0): 16 hex digits and a newline */
puthex:
  mv t2, a0
  li t3, 60
1:srl a0, t2, t3
  andi a0, a0, 15
  addi a0, a0, '0'
  li t4, '9'
  ble a0, t4, 2f
  addi a0, a0, 'a' - '0' - 10
2:li a7, 1
  ecall
  addi t3, t3, -4
  bgez t3, 1b
  li a0, '\n'
  li a7, 1
  ecall
  ret

hart_str: .string "hart="
dtb_str: .string "dtb="
magic_str: .string "magic="
