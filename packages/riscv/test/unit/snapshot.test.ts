import { AddressSpace } from "@backplane/memory";
import { describe, expect, it } from "vitest";
import { Hart, type HartState, loadElf } from "../../src/index.js";
import { assemble, HAVE_TOOLCHAIN, RAM_BASE, SKIP_REASON } from "./harness.js";

const PROGRAM = `
  li t0, -1; csrw pmpaddr0, t0
  li t0, 0x1f; csrw pmpcfg0, t0
  la t0, trap; csrw mtvec, t0
  li t0, 0x2000; csrs mstatus, t0      # FS = initial
  li s0, 0
  li s1, 1
  fcvt.d.l fa0, s1
loop:
  add s0, s0, s1
  addi s1, s1, 1
  fadd.d fa0, fa0, fa0
  ecall
  li t1, 200
  blt s1, t1, loop
1:wfi
  j 1b
trap:
  csrr t2, mepc; addi t2, t2, 4; csrw mepc, t2
  addi s2, s2, 1
  mret
`;

function boot(image: Uint8Array): { hart: Hart; ram: Uint8Array } {
  const bus = new AddressSpace();
  const ram = bus.addRam("ram", RAM_BASE, 1 << 20);
  const elf = loadElf(bus, image);
  return { hart: new Hart({ bus, resetPc: elf.entry }), ram: ram.bytes };
}

describe.skipIf(!HAVE_TOOLCHAIN)(
  `Hart saveState/loadState${HAVE_TOOLCHAIN ? "" : ` (skipped: ${SKIP_REASON})`}`,
  () => {
    it("restores into a fresh hart that then behaves identically", () => {
      const image = assemble(PROGRAM);
      const a = boot(image);
      a.hart.run(333); // stop mid-loop, with traps taken and FP state dirty
      const saved: HartState = structuredClone(a.hart.saveState());
      const b = boot(image);
      b.ram.set(a.ram);
      b.hart.loadState(saved);
      expect(b.hart.saveState()).toEqual(saved);
      for (const h of [a.hart, b.hart]) while (!h.run(10_000).waiting);
      for (let i = 0; i < 32; i++) {
        expect(b.hart.getX(i)).toBe(a.hart.getX(i));
        expect(b.hart.getF(i)).toBe(a.hart.getF(i));
      }
      expect(b.hart.pc).toBe(a.hart.pc);
      for (const csr of [0x300, 0x305, 0x341, 0x342, 0x3a0, 0x3b0, 0xb02, 0x003]) {
        expect(b.hart.readCsr(csr)).toBe(a.hart.readCsr(csr));
      }
      expect(a.hart.getX(8)).toBe((199n * 200n) / 2n);
      expect(a.hart.getX(18)).toBe(199n);
    });

    it("rejects an unknown version", () => {
      const { hart } = boot(assemble("wfi"));
      expect(() => hart.loadState({ ...hart.saveState(), version: 2 } as unknown as HartState)).toThrow(
        /version 2/,
      );
    });
  },
);
