import { describe, expect, it } from "vitest";
import { HAVE_TOOLCHAIN, machine, RAM_BASE, SKIP_REASON, X } from "./harness.js";

describe.skipIf(!HAVE_TOOLCHAIN)(
  `decoded-code invalidation${HAVE_TOOLCHAIN ? "" : ` (skipped: ${SKIP_REASON})`}`,
  () => {
    it("sees code the hart itself rewrote, on a page it has already run", () => {
      const m = machine(`
      .option norvc
      li s0, 0
    again:
      jal ra, target
      add s0, s0, a0
      la t0, target
      li t1, 0x00200513          # addi a0, zero, 2
      sw t1, 0(t0)
      fence.i
      li t2, 3
      addi s1, s1, 1
      blt s1, t2, again
    1:wfi
      j 1b
    target:
      addi a0, zero, 1
      ret
    `);
      m.run();
      expect(m.hart.getX(X.s0)).toBe(1n + 2n + 2n);
    });

    it("re-checks decoded pages against memory after FENCE.I (writes that bypass the hart, like DMA)", () => {
      const m = machine(`
      .option norvc
      li t0, 1 << 7
      csrw mie, t0                # MTIP may wake WFI (mstatus.MIE stays 0: no trap)
      jal ra, target
      mv s0, a0
      wfi                         # the test rewrites target here
      fence.i
      jal ra, target
      mv s1, a0
    1:wfi
      j 1b
    target:
      addi a0, zero, 1
      ret
    `);
      expect(m.hart.run(100).waiting).toBe(true);
      // Find "addi a0, zero, 1" and replace it behind the hart's back.
      const ram = m.bus.lookup(RAM_BASE)?.ram;
      if (!ram) throw new Error("no RAM");
      let at = -1;
      for (let o = 0; o < 256; o += 4) if (ram.view.getUint32(o, true) === 0x00100513) at = o;
      ram.view.setUint32(at, 0x00700513, true); // addi a0, zero, 7
      m.hart.irqLine(7).setLevel(true); // wakes the hart from WFI
      m.hart.run(100);
      expect(m.hart.getX(X.s0)).toBe(1n);
      expect(m.hart.getX(X.s1)).toBe(7n);
    });
  },
);
