/*
 * Runtime shared by every test program: entry point, UART output, hex
 * printing, exit through the SiFive test device and a trap handler that
 * reports an unexpected trap. Programs define `main` and return 0 to pass.
 */
#include "bp.h"

  .section .text.init, "ax"
  .globl _start
_start:
  la sp, bp_stack_top
  la t0, bp_unexpected_trap
  csrw mtvec, t0
  la t0, bp_trap_stack_top
  csrw mscratch, t0
  call main
  j bp_exit

  .text
/* bp_putc(a0): waits for LSR.THRE (bit 5), writes THR. Clobbers nothing else. */
  .globl bp_putc
bp_putc:
  addi sp, sp, -2*REGBYTES
  SREG t0, 0(sp)
  SREG t1, REGBYTES(sp)
  li t0, UART0
1:lbu t1, 5(t0)
  andi t1, t1, 0x20
  beqz t1, 1b
  sb a0, 0(t0)
  LREG t0, 0(sp)
  LREG t1, REGBYTES(sp)
  addi sp, sp, 2*REGBYTES
  ret

/* bp_puts(a0 = NUL-terminated string). Preserves every register but ra. */
  .globl bp_puts
bp_puts:
  addi sp, sp, -3*REGBYTES
  SREG ra, 0(sp)
  SREG a0, REGBYTES(sp)
  SREG t2, 2*REGBYTES(sp)
  mv t2, a0
1:lbu a0, 0(t2)
  beqz a0, 2f
  call bp_putc
  addi t2, t2, 1
  j 1b
2:LREG ra, 0(sp)
  LREG a0, REGBYTES(sp)
  LREG t2, 2*REGBYTES(sp)
  addi sp, sp, 3*REGBYTES
  ret

/* bp_puthex(a0): prints XLEN/4 hex digits. Preserves every register but ra. */
  .globl bp_puthex
bp_puthex:
  addi sp, sp, -4*REGBYTES
  SREG ra, 0(sp)
  SREG a0, REGBYTES(sp)
  SREG t2, 2*REGBYTES(sp)
  SREG t3, 3*REGBYTES(sp)
  mv t2, a0
  li t3, __riscv_xlen - 4
1:srl a0, t2, t3
  andi a0, a0, 15
  addi a0, a0, '0'
  li t0, '9'
  ble a0, t0, 2f
  addi a0, a0, 'a' - '0' - 10
2:call bp_putc
  addi t3, t3, -4
  bgez t3, 1b
  LREG ra, 0(sp)
  LREG a0, REGBYTES(sp)
  LREG t2, 2*REGBYTES(sp)
  LREG t3, 3*REGBYTES(sp)
  addi sp, sp, 4*REGBYTES
  ret

/* bp_print_kv(a0 = name, a1 = value): prints "name=value\n". Clobbers a0, ra. */
  .globl bp_print_kv
bp_print_kv:
  addi sp, sp, -2*REGBYTES
  SREG ra, 0(sp)
  SREG t0, REGBYTES(sp)
  call bp_puts
  li a0, '='
  call bp_putc
  mv a0, a1
  call bp_puthex
  li a0, '\n'
  call bp_putc
  LREG ra, 0(sp)
  LREG t0, REGBYTES(sp)
  addi sp, sp, 2*REGBYTES
  ret

/* bp_fail(a0 = code): prints "FAIL <code>" and exits with that code. */
  .globl bp_fail
bp_fail:
  mv a1, a0
  la a0, bp_fail_str
  call bp_print_kv
  mv a0, a1
/*
 * bp_exit(a0 = code): 0 passes, anything else fails with that code. Waits for
 * LSR.TEMT (bit 6) first: QEMU drops a byte still in its transmitter when the
 * test device ends the run while the host is slow to read the console.
 */
  .globl bp_exit
bp_exit:
  li t0, UART0
3:lbu t1, 5(t0)
  andi t1, t1, 0x40
  beqz t1, 3b
  li t0, TEST_DEV
  li t1, 0x5555
  beqz a0, 1f
  slli t1, a0, 16
  li t2, 0x3333
  or t1, t1, t2
1:sw t1, 0(t0)
2:j 2b

/* Unexpected trap: report mcause/mepc/mtval and fail with code 0xee. */
  .align 2
  .globl bp_unexpected_trap
bp_unexpected_trap:
  csrr a1, mcause
  la a0, bp_mcause_str
  call bp_print_kv
  csrr a1, mepc
  la a0, bp_mepc_str
  call bp_print_kv
  csrr a1, mtval
  la a0, bp_mtval_str
  call bp_print_kv
  li a0, 0xee
  j bp_fail

/*
 * bp_trap_skip: a trap handler for programs that provoke synchronous traps.
 * Prints "trap" with mcause, mepc and mtval, then resumes after the faulting
 * instruction (2 or 4 bytes long, judged from its low bits) at the privilege
 * the trap came from. Preserves every register. Not for instruction faults.
 */
  .align 2
  .globl bp_trap_skip
bp_trap_skip:
  csrrw sp, mscratch, sp
  addi sp, sp, -6*REGBYTES
  SREG a0, 0(sp)
  SREG a1, REGBYTES(sp)
  SREG ra, 2*REGBYTES(sp)
  SREG t0, 3*REGBYTES(sp)
  SREG t1, 4*REGBYTES(sp)
  PUTS "trap\n"
  csrr t0, mcause
  PRINT mcause, t0
  csrr t0, mepc
  PRINT mepc, t0
  csrr t0, mtval
  PRINT mtval, t0
  SKIP_MEPC
  LREG a0, 0(sp)
  LREG a1, REGBYTES(sp)
  LREG ra, 2*REGBYTES(sp)
  LREG t0, 3*REGBYTES(sp)
  LREG t1, 4*REGBYTES(sp)
  addi sp, sp, 6*REGBYTES
  csrrw sp, mscratch, sp
  mret

  .section .rodata.str, "a"
bp_fail_str: .string "FAIL"
bp_mcause_str: .string "unexpected trap mcause"
bp_mepc_str: .string "mepc"
bp_mtval_str: .string "mtval"

  .bss
  .align 4
  .space 8192
bp_stack_top:
  .space 4096
  .globl bp_trap_stack_top
bp_trap_stack_top:
