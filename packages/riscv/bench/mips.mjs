// MIPS of the interpreter on small integer loops, run from the built package.
// Usage: npm run bench (builds first). Prints one line per workload, with
// MIPS per CPU-second (robust on a loaded machine) and per wall-clock second.
import { AddressSpace } from "@backplane/memory";
import { Hart } from "@backplane/riscv";

const RAM = 0x8000_0000;
const I = (imm, rs1, f3, rd, op) => (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const R = (f7, rs2, rs1, f3, rd, op) =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const S = (imm, rs2, rs1, f3) =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | 0x23) >>> 0;
const B = (imm, rs2, rs1, f3) =>
  ((((imm >> 12) & 1) << 31) |
    (((imm >> 5) & 0x3f) << 25) |
    (rs2 << 20) |
    (rs1 << 15) |
    (f3 << 12) |
    (((imm >> 1) & 15) << 8) |
    (((imm >> 11) & 1) << 7) |
    0x63) >>>
  0;
const addi = (rd, rs1, imm) => I(imm, rs1, 0, rd, 0x13);
const add = (rd, rs1, rs2) => R(0, rs2, rs1, 0, rd, 0x33);
const xor = (rd, rs1, rs2) => R(0, rs2, rs1, 4, rd, 0x33);
const lui = (rd, imm20) => ((imm20 << 12) | (rd << 7) | 0x37) >>> 0;
const ld = (rd, rs1, imm) => I(imm, rs1, 3, rd, 0x03);
const sd = (rs2, rs1, imm) => S(imm, rs2, rs1, 3);
const bne = (rs1, rs2, off) => B(off, rs2, rs1, 1);
const WFI = 0x10500073;
const auipc = (rd, imm20) => ((imm20 << 12) | (rd << 7) | 0x17) >>> 0;
const [a0, a1, a2, a3, s0] = [10, 11, 12, 13, 8];

const workloads = {
  "alu loop (addi, add, xor, bne)": [
    addi(a0, 0, 0),
    lui(a1, 0x7ffff),
    addi(a2, 0, 0),
    addi(a0, a0, 1),
    add(a2, a2, a0),
    xor(a3, a3, a2),
    bne(a0, a1, -12),
    WFI,
  ],
  "memory loop (ld, add, sd, addi, bne)": [
    addi(a0, 0, 0),
    lui(a1, 0x7ffff),
    auipc(s0, 1),
    addi(a0, a0, 1),
    ld(a2, s0, 8),
    add(a2, a2, a0),
    sd(a2, s0, 8),
    bne(a0, a1, -16),
    WFI,
  ],
};

for (const [name, words] of Object.entries(workloads)) {
  const bus = new AddressSpace();
  const ram = bus.addRam("ram", RAM, 2 << 20);
  for (const [i, w] of words.entries()) ram.view.setUint32(i * 4, w, true);
  const hart = new Hart({ bus, resetPc: RAM });
  hart.run(2_000_000); // warm-up: let the JIT compile the interpreter
  hart.pc = BigInt(RAM);
  const budget = 100_000_000;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let done = 0;
  while (done < budget) done += hart.run(Math.min(10_000_000, budget - done)).executed;
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  // On a shared machine wall time includes waiting for a core; CPU time does not.
  console.log(
    `${name}: ${(done / cpuMs / 1000).toFixed(1)} MIPS per CPU-second, ${(done / ms / 1000).toFixed(1)} MIPS wall ` +
      `(${done} instructions, ${cpuMs.toFixed(0)} ms CPU, ${ms.toFixed(0)} ms wall)`,
  );
}
