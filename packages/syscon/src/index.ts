/** @backplane/syscon — the SiFive test finisher behind Linux's syscon poweroff and reboot on QEMU virt. */
export {
  FINISHER,
  FINISHER_FAIL,
  FINISHER_PASS,
  FINISHER_RESET,
  SYSCON_SIZE,
  Syscon,
  type SysconEvents,
  type SysconState,
} from "./syscon.js";
