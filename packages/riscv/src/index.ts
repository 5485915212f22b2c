/** @backplane/riscv — A RISC-V RV64GC/RV32GC hart (unprivileged ISA 20191213, privileged architecture 1.12): interpreter, CSRs, MMU, ELF loader and disassembler. */

export {
  CAUSE_BREAKPOINT,
  CAUSE_ECALL_M,
  CAUSE_ECALL_S,
  CAUSE_ECALL_U,
  CAUSE_FETCH_ACCESS,
  CAUSE_FETCH_PAGE_FAULT,
  CAUSE_ILLEGAL_INSTRUCTION,
  CAUSE_LOAD_ACCESS,
  CAUSE_LOAD_MISALIGNED,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS,
  CAUSE_STORE_MISALIGNED,
  CAUSE_STORE_PAGE_FAULT,
  IRQ_M_EXT,
  IRQ_M_SOFT,
  IRQ_M_TIMER,
  IRQ_S_EXT,
  PRV_M,
  PRV_S,
  PRV_U,
} from "./csr.js";
export { disassemble, XNAMES } from "./disasm.js";
export { type LoadedElf, type LoadedSegment, loadElf } from "./elf.js";
export {
  Hart,
  type HartOptions,
  type HartState,
  ISA_STRING,
  ISA_STRING_RV32,
  type RunResult,
} from "./hart.js";
