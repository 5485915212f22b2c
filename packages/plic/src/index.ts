/** @backplane/plic — A SiFive-compatible RISC-V PLIC model (RISC-V PLIC specification 1.0.0). */
export {};
