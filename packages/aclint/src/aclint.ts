/**
 * A SiFive-CLINT-compatible RISC-V core-local interruptor, as on QEMU virt:
 * the ACLINT MSWI (machine software interrupts) and MTIMER (machine timer)
 * devices of the RISC-V ACLINT specification 1.0 (sections 2 and 3) laid out
 * in one window the way the SiFive CLINT does it:
 *
 *   0x0000 + 4*hart   MSIP      bit 0 drives the hart's MSIP input
 *   0x4000 + 8*hart   MTIMECMP  64-bit compare; MTIP = (MTIME >= MTIMECMP)
 *   0xbff8            MTIME     64-bit counter at 10 MHz
 *
 * MTIME is derived from the injected clock (`floor(ns / 100)` plus an offset
 * that guest writes to MTIME adjust), so it never needs ticking. MTIP is
 * re-evaluated whenever MTIMECMP or MTIME is written and by a timer armed at
 * the instant MTIME reaches MTIMECMP. Registers can be accessed 4 bytes at a
 * time (either half of a 64-bit register) or 8 bytes at a time.
 *
 * MTIMECMP resets to 0, as on QEMU (the spec leaves it unspecified), so MTIP
 * is pending from reset until software programs a compare.
 *
 * Accesses that are not naturally aligned, or that hit holes in the map,
 * read as zero, are ignored when written, and are reported to `onGuestError`
 * (QEMU reads zero there too). Left out: the SSWI device (ACLINT section 4).
 */
import {
  InvalidArgumentError,
  type IrqLine,
  type MmioDevice,
  type NarrowWidth,
  type Snapshotable,
  type TimerHandle,
  type Timers,
  UnsupportedError,
} from "@backplane/core";

/** Offset of hart 0's MSIP register; one 32-bit register per hart. */
export const MSIP_BASE = 0x0000;
/** Offset of hart 0's MTIMECMP register; one 64-bit register per hart. */
export const MTIMECMP_BASE = 0x4000;
/** Offset of the MTIME register. */
export const MTIME = 0xbff8;
/** Size of the CLINT window on QEMU virt. */
export const ACLINT_SIZE = 0x10000;
/** MTIME frequency in Hz (the device tree's `timebase-frequency` on QEMU virt). */
export const ACLINT_TIMEBASE_FREQ = 10_000_000;
/** Nanoseconds per MTIME tick. */
const NS_PER_TICK = 1_000_000_000 / ACLINT_TIMEBASE_FREQ;
/** Largest hart count the CLINT layout has room for (MTIMECMP up to MTIME). */
export const ACLINT_MAX_HARTS = (MTIME - MTIMECMP_BASE) / 8;

const MASK64 = (1n << 64n) - 1n;

/** The interrupt inputs of one hart that the CLINT drives. */
export interface AclintHartLines {
  /** Machine software interrupt pending input (mip.MSIP). */
  readonly msip: IrqLine;
  /** Machine timer interrupt pending input (mip.MTIP). */
  readonly mtip: IrqLine;
}

/** Hooks for tracing; all default to no-ops. */
export interface AclintEvents {
  /** The guest made an access the device does not implement. */
  onGuestError?(reason: string): void;
}

export interface AclintOptions {
  /** Clock and timer source; MTIME counts its nanoseconds at 10 MHz. */
  readonly timers: Timers;
  /** One entry per hart, in hart-index order. */
  readonly harts: readonly AclintHartLines[];
  readonly events?: AclintEvents;
}

/** Saved state. MTIME is saved as a value, not as an offset from the clock. */
export interface AclintState {
  readonly version: 1;
  readonly mtime: bigint;
  readonly msip: readonly boolean[];
  readonly mtimecmp: readonly bigint[];
}

export class Aclint implements MmioDevice, Snapshotable<AclintState> {
  readonly size = ACLINT_SIZE;
  readonly widths: readonly NarrowWidth[] = [4];
  private readonly timers: Timers;
  private readonly lines: readonly AclintHartLines[];
  private readonly events: AclintEvents;
  private readonly msip: boolean[];
  private readonly mtimecmp: bigint[];
  private readonly deadlines: (TimerHandle | undefined)[];
  /** MTIME minus the clock's tick count, modulo 2^64. */
  private offset = 0n;

  constructor(options: AclintOptions) {
    const n = options.harts.length;
    if (n < 1 || n > ACLINT_MAX_HARTS) {
      throw new InvalidArgumentError(`the CLINT supports 1 to ${ACLINT_MAX_HARTS} harts, got ${n}`);
    }
    this.timers = options.timers;
    this.lines = options.harts;
    this.events = options.events ?? {};
    this.msip = new Array<boolean>(n).fill(false);
    this.mtimecmp = new Array<bigint>(n).fill(0n);
    this.deadlines = new Array<TimerHandle | undefined>(n).fill(undefined);
    for (let h = 0; h < n; h++) this.updateTimer(h);
  }

  /** Current MTIME, for the harts' `time` CSR and Sstc comparisons. */
  mtime(): bigint {
    return (BigInt(Math.floor(this.timers.now() / NS_PER_TICK)) + this.offset) & MASK64;
  }

  /**
   * Clock time in nanoseconds at which MTIME reaches `value` (at once if it
   * already has), or `undefined` when that is beyond the clock's exact range.
   * A hart implementing Sstc uses this to arm its `stimecmp` timer.
   */
  deadlineFor(value: bigint): number | undefined {
    const now = this.timers.now();
    const mtime = this.mtime();
    if (mtime >= value) return now;
    const ns = (Math.floor(now / NS_PER_TICK) + Number(value - mtime)) * NS_PER_TICK;
    return Number.isSafeInteger(ns) ? ns : undefined;
  }

  read(offset: number, width: NarrowWidth): number {
    const reg = this.decode(offset, width);
    if (reg === undefined) return 0;
    if (reg.kind === "msip") return this.msip[reg.hart] ? 1 : 0;
    const value = reg.kind === "mtime" ? this.mtime() : this.mtimecmp[reg.hart];
    return Number((value >> (reg.high ? 32n : 0n)) & 0xffffffffn);
  }

  write(offset: number, width: NarrowWidth, value: number): void {
    const reg = this.decode(offset, width);
    if (reg === undefined) return;
    if (reg.kind === "msip") {
      this.setMsip(reg.hart, (value & 1) === 1);
      return;
    }
    const shift = reg.high ? 32n : 0n;
    const old = reg.kind === "mtime" ? this.mtime() : this.mtimecmp[reg.hart];
    const merged = (old & ~(0xffffffffn << shift)) | (BigInt(value >>> 0) << shift);
    if (reg.kind === "mtime") this.setMtime(merged);
    else this.setMtimecmp(reg.hart, merged);
  }

  read64(offset: number): bigint {
    const reg = this.decode64(offset);
    if (reg === undefined) return 0n;
    return reg.kind === "mtime" ? this.mtime() : this.mtimecmp[reg.hart];
  }

  write64(offset: number, value: bigint): void {
    const reg = this.decode64(offset);
    if (reg === undefined) return;
    if (reg.kind === "mtime") this.setMtime(value & MASK64);
    else this.setMtimecmp(reg.hart, value & MASK64);
  }

  saveState(): AclintState {
    return { version: 1, mtime: this.mtime(), msip: [...this.msip], mtimecmp: [...this.mtimecmp] };
  }

  loadState(state: AclintState): void {
    if (state.version !== 1) throw new UnsupportedError(`aclint state version ${state.version}`);
    if (state.msip.length !== this.msip.length || state.mtimecmp.length !== this.mtimecmp.length) {
      throw new InvalidArgumentError(
        `aclint state has ${state.msip.length} harts, this device has ${this.msip.length}`,
      );
    }
    for (let h = 0; h < this.msip.length; h++) {
      this.setMsip(h, state.msip[h]);
      this.mtimecmp[h] = state.mtimecmp[h] & MASK64;
    }
    this.setMtime(state.mtime & MASK64);
  }

  private setMsip(hart: number, pending: boolean): void {
    this.msip[hart] = pending;
    this.lines[hart].msip.setLevel(pending);
  }

  private setMtimecmp(hart: number, value: bigint): void {
    this.mtimecmp[hart] = value;
    this.updateTimer(hart);
  }

  private setMtime(value: bigint): void {
    this.offset = (value - BigInt(Math.floor(this.timers.now() / NS_PER_TICK))) & MASK64;
    for (let h = 0; h < this.mtimecmp.length; h++) this.updateTimer(h);
  }

  /** Drives MTIP for `hart` and arms a timer for when it will next rise. */
  private updateTimer(hart: number): void {
    this.deadlines[hart]?.cancel();
    this.deadlines[hart] = undefined;
    const cmp = this.mtimecmp[hart];
    const pending = this.mtime() >= cmp;
    this.lines[hart].mtip.setLevel(pending);
    if (pending) return;
    const deadline = this.deadlineFor(cmp);
    if (deadline !== undefined) {
      this.deadlines[hart] = this.timers.at(deadline, () => {
        this.deadlines[hart] = undefined;
        this.updateTimer(hart);
      });
    }
  }

  private decode(offset: number, width: NarrowWidth): Register | undefined {
    if (width !== 4 || offset % 4 !== 0) {
      this.events.onGuestError?.(`unsupported ${width}-byte access at 0x${offset.toString(16)}`);
      return undefined;
    }
    if (offset < MTIMECMP_BASE) {
      const hart = (offset - MSIP_BASE) / 4;
      if (hart < this.msip.length) return { kind: "msip", hart, high: false };
    } else {
      const reg = this.decode64(offset & ~7, false);
      if (reg !== undefined) return { ...reg, high: (offset & 4) !== 0 };
    }
    this.events.onGuestError?.(`access to unimplemented offset 0x${offset.toString(16)}`);
    return undefined;
  }

  private decode64(offset: number, report = true): Register | undefined {
    if (offset === MTIME) return { kind: "mtime", hart: 0, high: false };
    if (offset >= MTIMECMP_BASE && offset % 8 === 0) {
      const hart = (offset - MTIMECMP_BASE) / 8;
      if (hart < this.mtimecmp.length) return { kind: "mtimecmp", hart, high: false };
    }
    if (report) this.events.onGuestError?.(`unsupported 8-byte access at 0x${offset.toString(16)}`);
    return undefined;
  }
}

interface Register {
  readonly kind: "msip" | "mtimecmp" | "mtime";
  readonly hart: number;
  /** For 4-byte accesses to a 64-bit register: the upper half. */
  readonly high: boolean;
}
