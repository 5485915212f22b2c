import { describe, expect, it } from "vitest";
import { disassemble } from "../../src/index.js";
import { HAVE_TOOLCHAIN, machine, SKIP_REASON, X } from "./harness.js";

const title = (t: string): string => (HAVE_TOOLCHAIN ? t : `${t} (skipped: ${SKIP_REASON})`);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);

describe.skipIf(!HAVE_TOOLCHAIN)(title("RV32"), () => {
  it("computes 32-bit integer results, with high addresses and calls", () => {
    const m = machine(
      `
      li a0, 0x7fffffff
      addi a1, a0, 1            # 0x80000000
      sltu a2, a0, a1           # 1
      slt a3, a1, a0            # 1 (negative < positive)
      srai a4, a1, 4            # 0xf8000000
      srli a5, a1, 31           # 1
      li t0, -7
      li t1, 3
      mulh a6, t0, t1           # -1 (high word of -21)
      mulhu a7, a1, a1          # 0x40000000
      div s2, t0, t1            # -2
      remu s3, t0, t1           # 0xfffffff9 % 3
      li t2, 0x80000000
      li t3, -1
      div s4, t2, t3            # overflow: 0x80000000
      call func                 # ra = high address; jalr back through a sign-bit address
      c.jal func2
      rev8 s7, t2               # 0x00000080
      zext.h s8, t3             # 0xffff
      clz s9, t1                # 30
      sh1add s10, a1, a1        # wraps: 0x80000000
      la s11, data
      sw t2, 0(s11)
      lw t4, 0(s11)             # sign-extended internally, 0x80000000
      lbu t5, 3(s11)            # 0x80
      csrr t6, misa
    1:wfi
      j 1b
    func:
      li s5, 55
      ret
    func2:
      li s6, 66
      ret
      .balign 4
    data: .word 0
    `,
      { xlen: 32 },
    );
    m.run();
    const h = m.hart;
    expect(h.getX(X.a1)).toBe(0x80000000n);
    expect(h.getX(X.a2)).toBe(1n);
    expect(h.getX(X.a3)).toBe(1n);
    expect(h.getX(X.a4)).toBe(0xf8000000n);
    expect(h.getX(X.a5)).toBe(1n);
    expect(h.getX(X.a6)).toBe(0xffffffffn);
    expect(h.getX(X.a7)).toBe(0x40000000n);
    expect(h.getX(18)).toBe(u32(-2n));
    expect(h.getX(19)).toBe(0xfffffff9n % 3n);
    expect(h.getX(20)).toBe(0x80000000n);
    expect(h.getX(21)).toBe(55n);
    expect(h.getX(22)).toBe(66n);
    expect(h.getX(23)).toBe(0x80n);
    expect(h.getX(24)).toBe(0xffffn);
    expect(h.getX(25)).toBe(30n);
    expect(h.getX(26)).toBe(0x80000000n);
    expect(h.getX(X.t4)).toBe(0x80000000n);
    expect(h.getX(X.t5)).toBe(0x80n);
    const misa = h.getX(X.t6);
    expect(misa >> 30n).toBe(1n);
    expect(h.isa).toBe("rv32imafdc_zicntr_zicsr_zifencei_zihpm_zba_zbb_zbs_sstc");
  });

  it("rejects RV64-only encodings as illegal instructions", () => {
    const m = machine(
      `
      .option norvc
      la t0, trap; csrw mtvec, t0
      .word 0x0005051b          # addiw a0, a0, 0 (OP-IMM-32)
      .word 0x00053503          # ld a0, 0(a0)
      .word 0x02051513          # slli a0, a0, 32 (shamt[5] set)
    1:wfi
      j 1b
    trap:
      csrr t1, mtval
      add s0, s0, t1
      addi s1, s1, 1
      csrr t1, mepc; addi t1, t1, 4; csrw mepc, t1
      mret
    `,
      { xlen: 32 },
    );
    m.run();
    expect(m.hart.getX(X.s1)).toBe(3n);
    expect(m.hart.getX(X.s0)).toBe(u32(0x0005051bn + 0x00053503n + 0x02051513n));
  });

  it("translates through Sv32 with 4 MiB superpages, sets A/D and faults", () => {
    const m = machine(
      `
      .option norvc
      .equ ROOT, 0x80010000
      .equ L0, 0x80011000
      la t0, m_trap; csrw mtvec, t0
      li t0, -1; csrw pmpaddr0, t0
      li t0, 0x1f; csrw pmpcfg0, t0
      li s0, ROOT
      # VA 0xC0000000 -> PA 0x80000000 superpage (RWX, A, D); VA 0x40000000 -> L0
      li t0, (0x80000000 >> 12 << 10) | 0xcf; li t1, 0xC0000000 >> 22 << 2; add t1, t1, s0; sw t0, 0(t1)
      li t0, (L0 >> 12 << 10) | 1;            li t1, 0x40000000 >> 22 << 2; add t1, t1, s0; sw t0, 0(t1)
      li s1, L0
      li t0, (0x80020000 >> 12 << 10) | 0x07; sw t0, 4(s1)      # VA 0x40001000 RW
      li t0, (1 << 31) | (ROOT >> 12); csrw satp, t0
      li t0, 1 << 13; csrw medeleg, t0
      li t1, 0x40000000
      la t0, s_trap; add t0, t0, t1; csrw stvec, t0
      la t0, s_code; add t0, t0, t1; csrw mepc, t0
      li t0, 0x1800; csrc mstatus, t0
      li t0, 0x0800; csrs mstatus, t0
      mret
    s_code:
      li s2, 0x40001000
      li t0, 0x5a5a
      sw t0, 8(s2)
      lw a0, 8(s2)
      li s3, 0x40002000
      lw a1, 0(s3)            # load page fault (invalid) -> S
      ecall                   # to M: ends
    s_trap:
      csrr a2, scause
      csrr a3, stval
      csrr t0, sepc; addi t0, t0, 4; csrw sepc, t0
      sret
    m_trap:
      csrr a4, mcause
    1:wfi
      j 1b
    `,
      { xlen: 32 },
    );
    m.run();
    const h = m.hart;
    expect(h.getX(X.a0)).toBe(0x5a5an);
    expect(m.bus.read(0x8002_0008, 4)).toBe(0x5a5a);
    expect(h.getX(X.a2)).toBe(13n);
    expect(h.getX(X.a3)).toBe(0x40002000n);
    expect(h.getX(X.a4)).toBe(9n);
    expect(m.bus.read(0x8001_1004, 4) & 0xc0).toBe(0xc0);
  });

  it("disassembles RV32 encodings with RV32 mnemonics", () => {
    expect(disassemble(0x00150513, undefined, 32)).toBe("addi a0, a0, 1");
    expect(disassemble(0x2005, undefined, 32)).toMatch(/^jal ra, /); // c.jal
  });
});
