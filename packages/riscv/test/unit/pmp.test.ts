import { describe, expect, it } from "vitest";
import { HAVE_TOOLCHAIN, machine, SKIP_REASON, X } from "./harness.js";

describe.skipIf(!HAVE_TOOLCHAIN)(`PMP${HAVE_TOOLCHAIN ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  it("checks TOR, NAPOT and NA4 regions for U-mode and locked regions for M-mode", () => {
    const m = machine(`
      .option norvc
      la t0, trap; csrw mtvec, t0
      la t0, log;  csrw mscratch, t0
      li t0, (0x80010000 >> 2);              csrw pmpaddr0, t0   # TOR [0, 0x80010000)
      li t0, (0x80020000 >> 2) | 0x1ff;      csrw pmpaddr1, t0   # NAPOT 4 KiB at 0x80020000
      li t0, (0x80021000 >> 2);              csrw pmpaddr2, t0   # NA4 at 0x80021000
      li t0, (0x80030000 >> 2) | 0x1ff;      csrw pmpaddr3, t0   # NAPOT 4 KiB at 0x80030000
      # cfg: 0 = TOR|R|X, 1 = NAPOT|R|W, 2 = NA4|R, 3 = L|NAPOT|R
      li t0, (0x0d) | (0x1b << 8) | (0x11 << 16) | (0x99 << 24)
      csrw pmpcfg0, t0
      # M-mode: the locked entry binds M too
      li s0, 0x80030000
      lw a0, 0(s0)                    # fine
      sw a0, 0(s0)                    # store access fault (locked, no W)
      li t0, 0x1f << 24
      csrs pmpcfg0, t0                # ignored: entry 3 is locked
      csrr s1, pmpcfg0
      li t0, 0x3fffffff
      csrw pmpaddr3, t0               # ignored: locked
      csrr s2, pmpaddr3
      # drop to U-mode
      la t0, u_code; csrw mepc, t0
      li t0, 0x1800; csrc mstatus, t0
      mret
    u_code:
      li s3, 0x80020008
      sw s3, 0(s3)                    # fine (NAPOT RW)
      lw a1, 0(s3)
      li s4, 0x80021000
      lw a2, 0(s4)                    # fine (NA4 R)
      sw a2, 0(s4)                    # store access fault
      lw a3, 4(s4)                    # no entry matches: load access fault
      li s5, 0x80020000
      jalr ra, 0(s5)                  # fetch access fault (no X)
      ecall
    trap:
      csrr t6, mscratch
      csrr t5, mcause; sw t5, 0(t6)
      csrr t5, mtval;  sw t5, 4(t6)
      addi t6, t6, 8
      csrw mscratch, t6
      csrr t5, mcause
      li t4, 8
      beq t5, t4, done
      li t4, 1
      bne t5, t4, 1f
      csrw mepc, ra
      mret
    1:csrr t5, mepc; addi t5, t5, 4; csrw mepc, t5
      mret
    done:
      wfi
      j done
      .balign 8
    log: .zero 64
    `);
    m.run();
    const h = m.hart;
    const logBase = Number(h.readCsr(0x340)) - 5 * 8;
    const entries: Array<[number, number]> = [];
    for (let i = 0; i < 5; i++)
      entries.push([m.bus.read(logBase + 8 * i, 4), m.bus.read(logBase + 8 * i + 4, 4)]);
    expect(entries).toEqual([
      [7, 0x80030000],
      [7, 0x80021000],
      [5, 0x80021004],
      [1, 0x80020000],
      [8, 0],
    ]);
    expect((h.getX(X.s1) >> 24n) & 0xffn).toBe(0x99n);
    expect(h.getX(X.s2)).toBe((0x80030000n >> 2n) | 0x1ffn);
    expect(h.getX(X.a1)).toBe(0xffffffff80020008n); // lw sign-extends
  });
});
