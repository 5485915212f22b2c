/** @backplane/aclint — a SiFive-CLINT-compatible RISC-V ACLINT (MTIMER + MSWI), as on QEMU virt. */
export {
  ACLINT_MAX_HARTS,
  ACLINT_SIZE,
  ACLINT_TIMEBASE_FREQ,
  Aclint,
  type AclintEvents,
  type AclintHartLines,
  type AclintOptions,
  type AclintState,
  MSIP_BASE,
  MTIME,
  MTIMECMP_BASE,
} from "./aclint.js";
