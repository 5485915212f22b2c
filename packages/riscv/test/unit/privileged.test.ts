import { AddressSpace } from "@backplane/memory";
import { describe, expect, it } from "vitest";
import { Hart } from "../../src/index.js";
import { HAVE_TOOLCHAIN, machine, SKIP_REASON, X } from "./harness.js";

const title = (t: string): string => (HAVE_TOOLCHAIN ? t : `${t} (skipped: ${SKIP_REASON})`);
const INT = 1n << 63n;

/** An M-mode trap handler that logs (mcause, mtval, mepc) at `mlog` and skips the 4-byte faulting instruction. */
const M_HANDLER = `
m_trap:
  csrr t6, mscratch
  csrr t5, mcause;  sd t5, 0(t6)
  csrr t5, mtval;   sd t5, 8(t6)
  csrr t5, mepc;    sd t5, 16(t6)
  addi t6, t6, 24
  csrw mscratch, t6
  csrr t5, mepc; addi t5, t5, 4; csrw mepc, t5
  mret
`;

function log(m: { bus: { read64(a: number): bigint } }, base: number, n: number): bigint[][] {
  const out: bigint[][] = [];
  for (let i = 0; i < n; i++) out.push([0, 8, 16].map((o) => m.bus.read64(base + 24 * i + o)));
  return out;
}

describe.skipIf(!HAVE_TOOLCHAIN)(title("synchronous exceptions"), () => {
  it("raises each exception with the right cause, tval and epc", () => {
    const m = machine(`
      .option norvc
      la t0, m_trap; csrw mtvec, t0
      la t0, mlog;   csrw mscratch, t0
    i1: .word 0xffffffff            # illegal: tval = the instruction bits
    i2: ecall
    i3: ebreak
      li a0, 0x1000
    i4: lw a1, 3(a0)                # unmapped: load access fault, tval = address
    i5: sw a1, 0(a0)                # store access fault
      la a2, mlog
      addi a6, a2, 2
    i6: amoadd.w a3, a1, (a6)       # misaligned AMO traps (cause 4 in QEMU 7.2)
    i7: csrw mvendorid, a0          # read-only CSR write: illegal
    i8: csrr a4, 0x7c0              # unimplemented CSR: illegal
      addi a6, a2, 1
    i9: lr.w a5, (a6)               # misaligned LR: cause 4
      1: wfi
      j 1b
      ${M_HANDLER}
      .balign 8
      mlog: .zero 24*16
    `);
    m.run();
    const mlog = Number(m.hart.readCsr(0x340)) - 24 * 9;
    const got = log(m, mlog, 9);
    const causes = got.map((e) => e[0]);
    expect(causes).toEqual([2n, 11n, 3n, 5n, 7n, 4n, 2n, 2n, 4n]); // misaligned AMO: 4, as QEMU 7.2
    const [illegal, ecall, ebreak, load, store, amo, roWrite, noCsr, lr] = got;
    expect(illegal[1]).toBe(0xffffffffn);
    expect(ecall[1]).toBe(0n);
    expect(ebreak[1]).toBe(0n); // QEMU 7.2 leaves tval 0 for EBREAK
    expect(load[1]).toBe(0x1003n);
    expect(store[1]).toBe(0x1000n);
    expect(amo[1]).toBe(BigInt(mlog) + 2n);
    expect(roWrite[1]).toBe(0xf1151073n); // csrw mvendorid, a0
    expect(noCsr[1]).toBe(0x7c002773n); // csrr a4, 0x7c0
    expect(lr[1]).toBe(BigInt(mlog) + 1n);
    // epcs are consecutive 4-byte instructions except around the li/la in between.
    expect(ecall[2] - illegal[2]).toBe(4n);
    expect(ebreak[2] - ecall[2]).toBe(4n);
    expect(m.hart.getX(X.a1)).toBe(0n);
  });

  it("ignores satp writes with an unsupported mode and reports Sv39", () => {
    const m = machine(`
      li t0, (1 << 60) | 5         # mode 1 is reserved: write ignored
      csrw satp, t0
      csrr a0, satp
      li t0, (8 << 60) | 0x80010
      csrw satp, t0
      csrr a1, satp
      csrw satp, zero
      csrr a2, misa
      1: wfi
      j 1b
    `);
    m.run();
    expect(m.hart.getX(X.a0)).toBe(0n);
    expect(m.hart.getX(X.a1)).toBe((8n << 60n) | 0x80010n);
    const misa = m.hart.getX(X.a2);
    expect(misa >> 62n).toBe(2n);
    const letters = [..."ACDFIMSU"].map((c) => 1n << BigInt(c.charCodeAt(0) - 65)).reduce((a, b) => a | b);
    expect(misa & ((1n << 26n) - 1n)).toBe(letters);
  });
});

/*
 * Sv39 layout built by the M-mode prologue below:
 *   root 0x80010000: [2] -> gigapage PA 0x80000000 (RWX, A, D) = identity for M;
 *                    [3] -> gigapage VA 0xC0000000 -> PA 0x80000000 (RWX) for S code;
 *                    [1] -> L1 0x80011000; L1[0] -> L0 0x80012000;
 *                    [4] -> misaligned gigapage (PPN not 1 GiB aligned);
 *   L0[1]: VA 0x40001000 -> PA 0x80020000 RW (A, D clear)
 *   L0[2]: VA 0x40002000 -> PA 0x80021000 R only
 *   L0[3]: invalid
 *   L0[5]: VA 0x40005000 -> PA 0x80022000 user page RW
 */
const SV39_PROGRAM = `
  .equ ROOT, 0x80010000
  .equ L1, 0x80011000
  .equ L0, 0x80012000
  .option norvc
  la t0, m_trap; csrw mtvec, t0
  la t0, mlog;   csrw mscratch, t0
  # PMP: allow everything to S/U (QEMU 7.2 denies S/U when no entry matches)
  li t0, -1; csrw pmpaddr0, t0
  li t0, 0x1f; csrw pmpcfg0, t0
  # page tables
  li s0, ROOT
  li t0, (0x80000000 >> 12 << 10) | 0xcf;  sd t0, 16(s0)
  li t0, (0x80000000 >> 12 << 10) | 0xcf;  sd t0, 24(s0)
  li t0, (L1 >> 12 << 10) | 1;            sd t0, 8(s0)
  li t0, (0x80200000 >> 12 << 10) | 0xcf;  sd t0, 32(s0)
  li s1, L1
  li t0, (L0 >> 12 << 10) | 1;            sd t0, 0(s1)
  li s1, L0
  li t0, (0x80020000 >> 12 << 10) | 0x07; sd t0, 8(s1)
  li t0, (0x80021000 >> 12 << 10) | 0x03; sd t0, 16(s1)
  li t0, (0x80022000 >> 12 << 10) | 0x17; sd t0, 40(s1)
  li t0, (8 << 60) | (ROOT >> 12); csrw satp, t0
  # delegate page faults to S; S handler and entry are virtual (PA + 0x40000000)
  li t0, (1 << 12) | (1 << 13) | (1 << 15); csrw medeleg, t0
  li t1, 0x40000000
  la t0, s_trap; add t0, t0, t1; csrw stvec, t0
  la t0, slog;   add t0, t0, t1; csrw sscratch, t0
  la t0, s_code; add t0, t0, t1; csrw mepc, t0
  li t0, 0x1800; csrc mstatus, t0
  li t0, 0x0800; csrs mstatus, t0
  mret
s_code:
  li s1, 0x40001000
  li t0, 0x1234
  sd t0, 0(s1)          # sets A and D
  ld a0, 0(s1)
  li s2, 0x40002000
  ld a1, 0(s2)          # fine (reads zero)
  sd t0, 0(s2)          # store page fault: read-only
  li s3, 0x40003000
  ld a2, 0(s3)          # load page fault: invalid PTE
  li s4, 0x8000000000
  ld a3, 0(s4)          # load page fault: not canonical (bit 39 set, bit 38 clear)
  li s5, 0x40005000
  ld a4, 0(s5)          # load page fault: user page, SUM clear
  li t0, 1 << 18
  csrs sstatus, t0
  ld a4, 0(s5)          # fine with SUM
  li s6, 0x100000000
  ld a5, 0(s6)          # load page fault: misaligned gigapage
  jalr zero, 0(s1)      # instruction page fault: page not executable
s_trap:
  csrr t6, sscratch
  csrr t5, scause;  sd t5, 0(t6)
  csrr t5, stval;   sd t5, 8(t6)
  csrr t5, sepc;    sd t5, 16(t6)
  addi t6, t6, 24
  csrw sscratch, t6
  csrr t5, scause
  li t4, 12
  bne t5, t4, 2f
  ecall                 # after the fetch fault: to M (not delegated), cause 9
2:csrr t5, sepc; addi t5, t5, 4; csrw sepc, t5
  sret
  1: wfi
  j 1b
m_trap:                 # the ecall from S ends the test
  csrr a7, mcause
1:wfi
  j 1b
  .balign 8
mlog: .zero 24*4
slog: .zero 24*8
`;

describe.skipIf(!HAVE_TOOLCHAIN)(title("Sv39 and supervisor mode"), () => {
  it("walks page tables, sets A/D, checks permissions and delegates faults to S", () => {
    const m = machine(SV39_PROGRAM);
    const h = m.hart;
    m.run();
    expect(h.getX(X.a0)).toBe(0x1234n);
    expect(h.getX(X.a4)).toBe(0n);
    // A/D bits written back by the walk
    const pteRw = m.bus.read64(0x8001_2008);
    const pteRo = m.bus.read64(0x8001_2010);
    expect(pteRw & 0xc0n).toBe(0xc0n);
    expect(pteRo & 0xc0n).toBe(0x40n);
    expect(m.bus.read64(0x8002_0000)).toBe(0x1234n);
    const n = 6;
    const slogPa = Number(h.readCsr(0x140)) - 0x4000_0000 - 24 * n;
    const entries = log(m, slogPa, n).map((e) => [e[0], e[1]]);
    expect(entries).toEqual([
      [15n, 0x40002000n],
      [13n, 0x40003000n],
      [13n, 0x8000000000n],
      [13n, 0x40005000n],
      [13n, 0x100000000n],
      [12n, 0x40001000n],
    ]);
    expect(h.getX(X.a7)).toBe(9n); // ecall from S reached M
    expect(h.priv).toBe(3);
  });
});

describe.skipIf(!HAVE_TOOLCHAIN)(title("satp writes"), () => {
  it("translate the very next fetch: turning on paging for an unmapped pc faults at the next instruction", () => {
    const m = machine(`
      .option norvc
      li t0, -1; csrw pmpaddr0, t0
      li t0, 0x1f; csrw pmpcfg0, t0
      la t0, m_trap; csrw mtvec, t0
      la t0, s_code; csrw mepc, t0
      li t0, 0x1800; csrc mstatus, t0
      li t0, 0x0800; csrs mstatus, t0
      mret
    s_code:
      li t0, (8 << 60) | (0x80010000 >> 12)   # empty root table: nothing is mapped
      csrw satp, t0
    next:
      li a0, 1                                # must not run
    m_trap:                                   # not delegated: M handles the S fetch fault
      csrr a1, mcause
      csrr a2, mtval
      la a3, next
    1:wfi
      j 1b
    `);
    m.run(10_000);
    expect(m.hart.getX(X.a0)).toBe(0n);
    expect(m.hart.getX(X.a1)).toBe(12n);
    expect(m.hart.getX(X.a2)).toBe(m.hart.getX(X.a3));
  });
});

describe.skipIf(!HAVE_TOOLCHAIN)(title("interrupts"), () => {
  it("takes a machine timer interrupt from an IrqLine through a vectored mtvec, and wakes from WFI", () => {
    const m = machine(`
      .option norvc
      la t0, vectors; ori t0, t0, 1; csrw mtvec, t0
      li t0, 1 << 7; csrw mie, t0
      csrsi mstatus, 8
      li a0, 0
    1:wfi
      beqz a0, 1b
      li a1, 42
    2:wfi
      j 2b
      .balign 64
    vectors:
      .rept 7
      j bad
      .endr
      j timer
    bad:
      li a0, -1
      mret
    timer:
      csrr a2, mcause
      li a0, 1
      csrw mie, zero
      mret
    `);
    const h = m.hart;
    const line = h.irqLine(7);
    const r1 = h.run(1000);
    expect(r1.waiting).toBe(true);
    expect(h.run(1000)).toEqual({ executed: 0, waiting: true });
    line.setLevel(true);
    m.run();
    expect(h.getX(X.a0)).toBe(1n);
    expect(h.getX(X.a1)).toBe(42n);
    expect(h.getX(X.a2)).toBe(INT | 7n);
    expect(h.readCsr(0x344)).toBe(1n << 7n); // MTIP visible in mip while the line is high
    line.setLevel(false);
    expect(h.readCsr(0x344)).toBe(0n);
  });

  it("delivers an Sstc supervisor timer interrupt when time reaches stimecmp", () => {
    let now = 0n;
    const m = machine(
      `
      li t0, -1; csrw pmpaddr0, t0
      li t0, 0x1f; csrw pmpcfg0, t0
      li t0, 1 << 63; csrs menvcfg, t0       # STCE
      li t0, 2; csrw mcounteren, t0         # S may touch stimecmp/time
      li t0, 1 << 5; csrw mideleg, t0
      la t0, s_trap; csrw stvec, t0
      la t0, s_code; csrw mepc, t0
      li t0, 0x1800; csrc mstatus, t0
      li t0, 0x0800; csrs mstatus, t0
      mret
    s_code:
      li t0, 1000; csrw stimecmp, t0
      li t0, 1 << 5; csrs sie, t0
      csrsi sstatus, 2
    1:wfi
      beqz a0, 1b
    2:wfi
      j 2b
    s_trap:
      csrr a1, scause
      rdtime a2
      li a0, 1
      li t0, -1; csrw stimecmp, t0
      sret
    `,
      { time: () => now },
    );
    const h = m.hart;
    expect(h.run(1000).waiting).toBe(true);
    now = 999n;
    expect(h.run(1000).waiting).toBe(true);
    now = 1000n;
    m.run();
    expect(h.getX(X.a0)).toBe(1n);
    expect(h.getX(X.a1)).toBe(INT | 5n);
    expect(h.getX(X.a2)).toBe(1000n);
    expect(h.priv).toBe(1);
  });
});

describe("irqLine", () => {
  it("rejects inputs the hart does not have", () => {
    const h = new Hart({ bus: new AddressSpace() });
    expect(() => h.irqLine(5)).toThrow(/no interrupt input 5/);
  });
});

describe.skipIf(!HAVE_TOOLCHAIN)(title("trace option"), () => {
  it("reports each instruction's pc and disassembly before it runs", () => {
    const lines: string[] = [];
    const m = machine(
      `
      li a0, 5
      addi a0, a0, -1
      ebreak
    `,
      { trace: (pc, text) => lines.push(`${pc.toString(16)}: ${text}`) },
    );
    m.hart.run(4);
    expect(lines.slice(0, 3)).toEqual([
      "80000000: addi a0, zero, 5",
      "80000002: addi a0, a0, -1",
      "80000004: ebreak",
    ]);
    // The ebreak trapped to mtvec = 0 (unmapped); the trace shows "" for an unfetchable pc.
    expect(lines[3]).toBe("0: ");
  });
});
