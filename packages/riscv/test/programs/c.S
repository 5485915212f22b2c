/* RV64C: compressed integer, load/store, stack-relative, jump and branch forms (unprivileged spec chapter 16), written explicitly with c.* mnemonics. */
#include "bp.h"
  .globl main
main:
  mv s11, ra
  la s0, cbuf
  c.li a0, -32
  CHECK(a0, -32)
  c.lui a1, 0x1f
  CHECK(a1, 0x1f000)
  c.lui a1, 0xfffe0
  CHECK(a1, 0xfffffffffffe0000)
  c.li a2, 31
  c.addi a2, -1
  c.addiw a2, 1
  CHECK(a2, 31)
  c.addi16sp sp, -64
  c.addi4spn a3, sp, 16
  c.addi16sp sp, 64
  sub a3, a3, sp
  CHECK(a3, -48)
  li a4, 0x7fffffff
  c.addiw a4, 1
  CHECK(a4, 0xffffffff80000000)
  c.slli a4, 1
  PRINT slli, a4
  c.srli a4, 3
  PRINT srli, a4
  li a5, -256
  c.srai a5, 4
  CHECK(a5, -16)
  c.andi a5, 0x1b
  CHECK(a5, 0x10)
  li a0, 0x55
  li a1, 0x0f
  c.mv a2, a0
  c.add a2, a1
  CHECK(a2, 0x64)
  c.sub a2, a1
  c.xor a2, a1
  c.or a2, a1
  c.and a2, a0
  PRINT alu, a2
  li a0, 0x7fffffff
  li a1, 1
  c.addw a0, a1
  CHECK(a0, 0xffffffff80000000)
  c.subw a1, a0
  PRINT subw, a1
  /* loads and stores */
  li a0, 0x0123456789abcdef
  c.sd a0, 8(s0)
  c.lw a1, 12(s0)
  CHECK(a1, 0x01234567)
  c.lw a1, 8(s0)
  CHECK(a1, 0xffffffff89abcdef)
  c.sw a1, 0(s0)
  c.ld a2, 0(s0)
  PRINT ld, a2
  c.addi16sp sp, -32
  c.sdsp a0, 8(sp)
  c.swsp a1, 16(sp)
  c.ldsp a3, 8(sp)
  c.lwsp a4, 16(sp)
  c.addi16sp sp, 32
  CHECK(a3, 0x0123456789abcdef)
  CHECK(a4, 0xffffffff89abcdef)
  /* jumps and branches */
  li a0, 0
  c.beqz a0, 1f
  j fail
1:c.bnez a0, fail
  li a0, 3
  c.bnez a0, 1f
  j fail
1:c.j 2f
  j fail
2:la a1, 3f
  c.jalr a1
  CHECK(a0, 0x77)
  la a1, 4f
  c.jr a1
  j fail
4:c.nop
  mv ra, s11
  li a0, 0
  ret
3:li a0, 0x77
  c.jr ra
fail:
  li a0, 1
  j bp_fail
  .data
  .align 3
cbuf: .space 32
