/*
 * Shared macros for the Backplane RISC-V test programs.
 *
 * Programs run bare-metal on QEMU's `virt` board and on Backplane's: output
 * through the NS16550A UART at 0x10000000, exit through the SiFive test
 * device at 0x100000 (0x5555 = pass, (code << 16) | 0x3333 = fail).
 * Register t6 (x31) is reserved as the scratch register of CHECK.
 */
#ifndef BP_H
#define BP_H

#if __riscv_xlen == 64
#define LREG ld
#define SREG sd
#define REGBYTES 8
#else
#define LREG lw
#define SREG sw
#define REGBYTES 4
#endif

#define UART0 0x10000000
#define TEST_DEV 0x100000
#define CLINT 0x2000000

/* PRINT name, reg: prints "name=<hex>\n"; preserves every register. */
.macro PRINT name, reg
  addi sp, sp, -4*REGBYTES
  SREG a0, 0(sp)
  SREG a1, REGBYTES(sp)
  SREG ra, 2*REGBYTES(sp)
  mv a1, \reg
  la a0, .Lbp_str\@
  call bp_print_kv
  LREG a0, 0(sp)
  LREG a1, REGBYTES(sp)
  LREG ra, 2*REGBYTES(sp)
  addi sp, sp, 4*REGBYTES
  .pushsection .rodata.str, "a"
.Lbp_str\@: .string "\name"
  .popsection
.endm

/* PUTS "text": prints a string literal; preserves every register. */
.macro PUTS text
  addi sp, sp, -2*REGBYTES
  SREG a0, 0(sp)
  SREG ra, REGBYTES(sp)
  la a0, .Lbp_txt\@
  call bp_puts
  LREG a0, 0(sp)
  LREG ra, REGBYTES(sp)
  addi sp, sp, 2*REGBYTES
  .pushsection .rodata.str, "a"
.Lbp_txt\@: .string "\text"
  .popsection
.endm

/* CHECK(reg, value): fails with the source line as exit code unless reg == value. */
.macro BP_CHECK reg, val, line
  li t6, \val
  beq \reg, t6, .Lbp_ok\@
  li a0, \line
  j bp_fail
.Lbp_ok\@:
.endm
#define CHECK(reg, val) BP_CHECK reg, val, __LINE__

/*
 * PMP_ALLOW_ALL: one NAPOT PMP region over the whole address space with RWX,
 * so S and U modes may access memory (privileged spec 3.7; QEMU denies S/U
 * accesses when no PMP entry matches).
 */
.macro PMP_ALLOW_ALL
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
.endm

/* SKIP_MEPC: advances mepc past the 2- or 4-byte instruction it points at (clobbers t0, t1). */
.macro SKIP_MEPC
  csrr t0, mepc
  lhu t1, 0(t0)
  andi t1, t1, 3
  addi t0, t0, 2
  xori t1, t1, 3
  bnez t1, .Lbp_skip\@
  addi t0, t0, 2
.Lbp_skip\@:
  csrw mepc, t0
.endm

/* PRINTF name, freg: prints the raw bits of a single-precision register. */
.macro PRINTF name, freg
  fmv.x.w t6, \freg
  PRINT \name, t6
.endm

#if __riscv_xlen == 64
/* PRINTD name, freg: prints the raw bits of a double-precision register. */
.macro PRINTD name, freg
  fmv.x.d t6, \freg
  PRINT \name, t6
.endm
#endif

/* PRINT_FFLAGS name: prints and clears fflags. */
.macro PRINT_FFLAGS name
  csrrci t6, fflags, 0x1f
  PRINT \name, t6
.endm

#endif
