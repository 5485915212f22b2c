/** @backplane/riscv — A RISC-V RV64GC/RV32GC hart (unprivileged ISA 20191213, privileged architecture 1.12): interpreter, CSRs, MMU, ELF loader and disassembler. */
export {};
