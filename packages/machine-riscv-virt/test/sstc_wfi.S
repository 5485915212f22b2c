/*
 * Sstc wake-up from WFI (Sstc 1.0: STIP = time >= stimecmp; privileged spec
 * 3.3.3: WFI resumes when an interrupt enabled in sie becomes pending, even
 * with sstatus.SIE clear). The S-mode part arms stimecmp 1000 ticks ahead and
 * waits: nothing else can end the wait (the CLINT's mtimecmp stays at its
 * maximum), so the machine must see the stimecmp deadline as Linux's idle loop
 * needs it. Passes through the test device from S-mode.
 */
#include "bp.h"
  .globl main
main:
  PMP_ALLOW_ALL
  li t0, CLINT + 0x4000
  li t1, -1
  sd t1, 0(t0)           /* mtimecmp = max: no machine timer */
  li t0, 1
  slli t0, t0, 63
  csrs menvcfg, t0       /* STCE */
  csrsi mcounteren, 2    /* TM: S reads time */
  li t0, 1 << 5
  csrs mideleg, t0       /* STI to S */
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0       /* MPP = S */
  la t0, s_main
  csrw mepc, t0
  mret

s_main:
  PUTS "S: arming stimecmp\n"
  csrr t0, time
  addi t0, t0, 1000
  csrw stimecmp, t0
  li t0, 1 << 5
  csrs sie, t0           /* STIE; sstatus.SIE stays 0 */
  wfi
  csrr t1, sip
  andi t1, t1, 1 << 5
  CHECK(t1, 32)
  PUTS "S: woke on STIP\n"
  li t0, TEST_DEV
  li t1, 0x5555
  sw t1, 0(t0)
1:j 1b
