/** @backplane/plic — a SiFive-compatible RISC-V PLIC (RISC-V PLIC specification 1.0.0), as on QEMU virt. */
export {
  CONTEXT_BASE,
  CONTEXT_CLAIM,
  CONTEXT_STRIDE,
  CONTEXT_THRESHOLD,
  ENABLE_BASE,
  ENABLE_STRIDE,
  PENDING_BASE,
  Plic,
  type PlicEvents,
  type PlicOptions,
  type PlicState,
  PRIORITY_BASE,
  VIRT_PLIC_MAX_PRIORITY,
  VIRT_PLIC_NUM_SOURCES,
} from "./plic.js";
