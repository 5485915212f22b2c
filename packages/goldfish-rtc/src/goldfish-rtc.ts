/**
 * The Android goldfish real-time clock ("google,goldfish-rtc", QEMU virt at
 * 0x101000), with the register semantics Linux's drivers/rtc/rtc-goldfish.c
 * relies on and QEMU's model provides (Android emulator "goldfish" virtual
 * hardware, RTC section).
 *
 * Time is a 64-bit count of nanoseconds since the Unix epoch: the injected
 * wall clock plus an offset that guest writes to TIME_LOW/TIME_HIGH move, one
 * half at a time. Reading TIME_LOW latches the upper half for the following
 * TIME_HIGH read, so a LOW-then-HIGH pair is consistent. Writing ALARM_LOW
 * arms the alarm at the time latched in ALARM_HIGH:ALARM_LOW; when the time
 * reaches it the alarm stops, the interrupt becomes pending, and the IRQ line
 * is high while it is pending and IRQ_ENABLED is set.
 *
 * Deviation: the alarm delay is measured on the injected `Timers` (armed at
 * `now + (alarm - time)`), so if the wall clock and the timers run at
 * different rates the alarm follows the timers.
 */
import {
  type IrqLine,
  type MmioDevice,
  type NarrowWidth,
  type Snapshotable,
  type TimerHandle,
  type Timers,
  UnsupportedError,
  type WallClock,
} from "@backplane/core";

/** Low 32 bits of the time; reading it latches TIME_HIGH. */
export const TIME_LOW = 0x00;
/** High 32 bits of the time (latched by a TIME_LOW read). */
export const TIME_HIGH = 0x04;
/** Low 32 bits of the alarm time; writing it arms the alarm. */
export const ALARM_LOW = 0x08;
/** High 32 bits of the alarm time. */
export const ALARM_HIGH = 0x0c;
/** Bit 0: the alarm interrupt may reach the IRQ line. */
export const IRQ_ENABLED = 0x10;
/** Write: disarm the alarm. */
export const CLEAR_ALARM = 0x14;
/** Read: 1 while the alarm is armed. */
export const ALARM_STATUS = 0x18;
/** Write: acknowledge the pending alarm interrupt. */
export const CLEAR_INTERRUPT = 0x1c;
/** Size of the register window on QEMU virt. */
export const GOLDFISH_RTC_SIZE = 0x1000;

const MASK32 = 0xffff_ffffn;
const MASK64 = (1n << 64n) - 1n;

/** Hooks for tracing; all default to no-ops. */
export interface GoldfishRtcEvents {
  /** The alarm time was reached. */
  onAlarm?(): void;
  /** The guest made an access the device does not implement. */
  onGuestError?(reason: string): void;
}

export interface GoldfishRtcOptions {
  /** Time of day the RTC starts from. */
  readonly wallClock: WallClock;
  /** Clock that alarms are scheduled on. */
  readonly timers: Timers;
  /** Alarm interrupt output. */
  readonly irq: IrqLine;
  readonly events?: GoldfishRtcEvents;
}

/** Saved state; `offset` is relative to the wall clock, as the guest set it. */
export interface GoldfishRtcState {
  readonly version: 1;
  readonly offset: bigint;
  readonly timeHigh: number;
  readonly alarmNext: bigint;
  readonly alarmRunning: boolean;
  readonly irqPending: boolean;
  readonly irqEnabled: boolean;
}

export class GoldfishRtc implements MmioDevice, Snapshotable<GoldfishRtcState> {
  readonly size = GOLDFISH_RTC_SIZE;
  readonly widths: readonly NarrowWidth[] = [4];
  private readonly wallClock: WallClock;
  private readonly timers: Timers;
  private readonly irq: IrqLine;
  private readonly events: GoldfishRtcEvents;
  private offset = 0n;
  private timeHigh = 0;
  private alarmNext = 0n;
  private alarm: TimerHandle | undefined;
  private irqPending = false;
  private irqEnabled = false;

  constructor(options: GoldfishRtcOptions) {
    this.wallClock = options.wallClock;
    this.timers = options.timers;
    this.irq = options.irq;
    this.events = options.events ?? {};
    this.irq.setLevel(false);
  }

  /** Current RTC time in nanoseconds since the epoch. */
  time(): bigint {
    return (this.wallClock.epochNs() + this.offset) & MASK64;
  }

  read(offset: number, width: NarrowWidth): number {
    if (width !== 4 || offset % 4 !== 0) {
      this.events.onGuestError?.(`unsupported ${width}-byte read at 0x${offset.toString(16)}`);
      return 0;
    }
    switch (offset) {
      case TIME_LOW: {
        const now = this.time();
        this.timeHigh = Number(now >> 32n);
        return Number(now & MASK32);
      }
      case TIME_HIGH:
        return this.timeHigh;
      case ALARM_LOW:
        return Number(this.alarmNext & MASK32);
      case ALARM_HIGH:
        return Number(this.alarmNext >> 32n);
      case IRQ_ENABLED:
        return this.irqEnabled ? 1 : 0;
      case ALARM_STATUS:
        return this.alarm !== undefined ? 1 : 0;
      default:
        this.events.onGuestError?.(`read of unimplemented offset 0x${offset.toString(16)}`);
        return 0;
    }
  }

  write(offset: number, width: NarrowWidth, value: number): void {
    if (width !== 4 || offset % 4 !== 0) {
      this.events.onGuestError?.(`unsupported ${width}-byte write at 0x${offset.toString(16)}`);
      return;
    }
    const v = BigInt(value >>> 0);
    switch (offset) {
      case TIME_LOW:
      case TIME_HIGH: {
        const shift = offset === TIME_HIGH ? 32n : 0n;
        const now = this.time();
        const target = (now & ~(MASK32 << shift)) | (v << shift);
        this.offset = (this.offset + target - now) & MASK64;
        break;
      }
      case ALARM_LOW:
        this.alarmNext = (this.alarmNext & (MASK32 << 32n)) | v;
        this.armAlarm();
        break;
      case ALARM_HIGH:
        this.alarmNext = (this.alarmNext & MASK32) | (v << 32n);
        break;
      case IRQ_ENABLED:
        this.irqEnabled = (value & 1) === 1;
        this.updateIrq();
        break;
      case CLEAR_ALARM:
        this.disarm();
        break;
      case CLEAR_INTERRUPT:
        this.irqPending = false;
        this.updateIrq();
        break;
      default:
        this.events.onGuestError?.(`write to unimplemented or read-only offset 0x${offset.toString(16)}`);
    }
  }

  saveState(): GoldfishRtcState {
    return {
      version: 1,
      offset: this.offset,
      timeHigh: this.timeHigh,
      alarmNext: this.alarmNext,
      alarmRunning: this.alarm !== undefined,
      irqPending: this.irqPending,
      irqEnabled: this.irqEnabled,
    };
  }

  loadState(state: GoldfishRtcState): void {
    if (state.version !== 1) throw new UnsupportedError(`goldfish-rtc state version ${state.version}`);
    this.offset = state.offset & MASK64;
    this.timeHigh = state.timeHigh >>> 0;
    this.alarmNext = state.alarmNext & MASK64;
    this.irqPending = state.irqPending;
    this.irqEnabled = state.irqEnabled;
    this.disarm();
    if (state.alarmRunning) this.armAlarm();
    this.updateIrq();
  }

  private armAlarm(): void {
    this.disarm();
    const delay = this.alarmNext - this.time();
    if (delay <= 0n) {
      this.fire();
      return;
    }
    const deadline = this.timers.now() + Number(delay);
    // A deadline past the clock's exact range can never be reached: leave it armed, idle.
    this.alarm = this.timers.at(Number.isSafeInteger(deadline) ? deadline : Number.MAX_SAFE_INTEGER, () => {
      this.alarm = undefined;
      this.fire();
    });
  }

  private disarm(): void {
    this.alarm?.cancel();
    this.alarm = undefined;
  }

  private fire(): void {
    this.events.onAlarm?.();
    this.irqPending = true;
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.setLevel(this.irqPending && this.irqEnabled);
  }
}
