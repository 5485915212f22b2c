/**
 * The SiFive test finisher ("sifive,test0"/"sifive,test1", QEMU virt at
 * 0x100000), the device behind Linux's `syscon-poweroff` and `syscon-reboot`
 * nodes on the virt board.
 *
 * One 32-bit register at offset 0 (FINISHER): the low 16 bits select an
 * action, the high 16 bits carry a failure code. Writing FINISHER_PASS powers
 * off with success, FINISHER_FAIL powers off with the code, FINISHER_RESET
 * asks for a system reset. The device reports the request through hooks and
 * never stops anything itself: the machine decides what poweroff means.
 *
 * Reads return 0, which is what `regmap_update_bits` in Linux's syscon
 * drivers reads before writing the value back.
 *
 * Deviation: QEMU rejects 1-byte accesses; here every width reaches `write`
 * through the address space's width adaptation, and a value that is not one
 * of the three commands is ignored and counted as a guest error either way.
 */
import { type MmioDevice, type NarrowWidth, type Snapshotable, UnsupportedError } from "@backplane/core";

/** Offset of the finisher register. */
export const FINISHER = 0x0;
/** Low half: power off, test passed. */
export const FINISHER_PASS = 0x5555;
/** Low half: power off, test failed; bits 31:16 hold the failure code. */
export const FINISHER_FAIL = 0x3333;
/** Low half: system reset. */
export const FINISHER_RESET = 0x7777;

/** Size of the register window (one 4 KiB page, as on QEMU virt). */
export const SYSCON_SIZE = 0x1000;

/** Hooks the machine implements; all default to no-ops. */
export interface SysconEvents {
  /**
   * The guest asked for poweroff. `exitCode` is the process exit status QEMU
   * uses: 0 for FINISHER_PASS, the failure code (bits 31:16) for
   * FINISHER_FAIL, which may itself be 0, so `status` tells the two apart.
   */
  onPowerOff?(exitCode: number, status: "pass" | "fail"): void;
  /** The guest asked for a system reset. */
  onReset?(): void;
  /** The guest wrote something the device does not implement. */
  onGuestError?(reason: string): void;
}

/** Saved state: the finisher has none beyond its version. */
export interface SysconState {
  readonly version: 1;
}

export class Syscon implements MmioDevice, Snapshotable<SysconState> {
  readonly size = SYSCON_SIZE;
  readonly widths: readonly NarrowWidth[] = [4];
  private readonly events: SysconEvents;

  constructor(options: { events?: SysconEvents } = {}) {
    this.events = options.events ?? {};
  }

  read(_offset: number, _width: NarrowWidth): number {
    return 0;
  }

  write(offset: number, _width: NarrowWidth, value: number): void {
    if (offset !== FINISHER) {
      this.events.onGuestError?.(`write to unimplemented offset 0x${offset.toString(16)}`);
      return;
    }
    const status = value & 0xffff;
    const code = (value >>> 16) & 0xffff;
    switch (status) {
      case FINISHER_PASS:
        this.events.onPowerOff?.(0, "pass");
        break;
      case FINISHER_FAIL:
        this.events.onPowerOff?.(code, "fail");
        break;
      case FINISHER_RESET:
        this.events.onReset?.();
        break;
      default:
        this.events.onGuestError?.(`unknown finisher command 0x${status.toString(16)}`);
    }
  }

  saveState(): SysconState {
    return { version: 1 };
  }

  loadState(state: SysconState): void {
    if (state.version !== 1) throw new UnsupportedError(`syscon state version ${state.version}`);
  }
}
