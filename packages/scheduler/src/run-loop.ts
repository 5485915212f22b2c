/**
 * The run loop: runs a hart in slices of instructions and dispatches timers
 * between slices. With a virtual clock, guest time advances by a fixed
 * number of nanoseconds per retired instruction and a slice never runs past
 * the next timer deadline, so timer interrupts land on the same instruction
 * in every run; while the hart waits in WFI, time skips straight to the next
 * deadline. With a host clock, slices follow host time and a waiting hart
 * sleeps until the next deadline or until the host calls `wake()` (input
 * arrived). Host services (sleeping, yielding to the event loop) are
 * injected, so the loop runs unchanged in Node and in browsers.
 */
import { InvalidArgumentError } from "@backplane/core";
import { HostClock, VirtualClock } from "./clock.js";
import type { TimerQueue } from "./timer-queue.js";

/** What one call of {@link RunnableHart.run} did (the shape of `@backplane/riscv`'s RunResult). */
export interface SliceResult {
  /** Instructions retired (a trap counts as one). */
  executed: number;
  /** True when the hart stopped in WFI with no interrupt pending. */
  waiting: boolean;
}

/** What the run loop needs from a hart. */
export interface RunnableHart {
  /**
   * Executes up to `budget` instructions; returns early when the hart waits in
   * WFI with no interrupt pending (a waiting hart with a pending interrupt
   * resumes). Called again on a waiting hart, it returns at once.
   */
  run(budget: number): SliceResult;
  /** Optional: makes the current `run` call return at the next instruction boundary. */
  endSlice?(): void;
}

/** Host services for asynchronous running. */
export interface HostServices {
  /** Resolves after about `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
  /** Resolves after the host has had a chance to run pending I/O callbacks. */
  yield(): Promise<void>;
}

export interface RunLoopOptions {
  hart: RunnableHart;
  /** The machine's timers; their clock must be `clock`. */
  timers: TimerQueue;
  /** A `VirtualClock` (deterministic) or a `HostClock`. */
  clock: VirtualClock | HostClock;
  /** Virtual time per retired instruction (default 10 ns: a 100 MIPS guest). */
  nsPerInstruction?: number;
  /** Most instructions per slice (default 20 000). */
  sliceInstructions?: number;
  /** Needed by `run()`; `runSync()` works without. */
  host?: HostServices;
}

/** Why a run ended. */
export type StopReason = "stopped" | "limit" | "idle";

export class RunLoop {
  private readonly hart: RunnableHart;
  private readonly timers: TimerQueue;
  private readonly clock: VirtualClock | HostClock;
  private readonly nsPerInstruction: number;
  private readonly slice: number;
  private readonly host: HostServices | undefined;
  private stopped = false;
  private retiredTotal = 0;
  private wakeUp: (() => void) | undefined;

  constructor(options: RunLoopOptions) {
    this.hart = options.hart;
    this.timers = options.timers;
    this.clock = options.clock;
    this.nsPerInstruction = options.nsPerInstruction ?? 10;
    this.slice = options.sliceInstructions ?? 20_000;
    this.host = options.host;
    if (!(this.nsPerInstruction > 0)) throw new InvalidArgumentError("nsPerInstruction must be positive");
    if (!(this.slice >= 1)) throw new InvalidArgumentError("sliceInstructions must be at least 1");
  }

  /** Instructions retired so far. */
  get retired(): number {
    return this.retiredTotal;
  }

  /** True once `stop()` was called. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Ends the run at the next slice boundary (a device powered the machine off). */
  stop(): void {
    this.stopped = true;
    this.hart.endSlice?.();
    this.wake();
  }

  /** Ends an idle wait early: the host delivered input that may raise an interrupt. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /**
   * Runs synchronously until stopped, until `maxInstructions` retired, or
   * until the hart waits with no timer pending ("idle": only host input could
   * wake it). With a host clock, a waiting hart busy-polls the clock.
   */
  runSync(maxInstructions = Number.POSITIVE_INFINITY): StopReason {
    const limit = this.retiredTotal + maxInstructions;
    while (!this.stopped) {
      if (this.retiredTotal >= limit) return "limit";
      if (this.step(limit - this.retiredTotal) === "idle") return "idle";
    }
    return "stopped";
  }

  /** Runs until `stop()`, yielding to the host between slices and sleeping while the hart waits. */
  async run(): Promise<"stopped"> {
    const host = this.host;
    if (host === undefined)
      throw new InvalidArgumentError("RunLoop.run() needs host services; use runSync()");
    let lastYield = this.clock.now();
    while (!this.stopped) {
      const status = this.step(this.slice);
      if (status === "idle") {
        await this.idle(undefined);
      } else if (status === "waiting" && this.clock instanceof HostClock) {
        const next = this.timers.nextDeadline();
        const ms = next === undefined ? undefined : (next - this.clock.now()) / 1e6;
        if (ms === undefined || ms > 0) await this.idle(ms);
        this.timers.runDue();
      } else if (status === "waiting" || this.clock.now() - lastYield >= 4_000_000) {
        // Give the host's I/O a turn every few milliseconds of guest time.
        lastYield = this.clock.now();
        await host.yield();
      }
    }
    return "stopped";
  }

  /**
   * One slice: run the hart (bounded by `budget` and, with a virtual clock,
   * by the next deadline), advance time and dispatch due timers. A waiting
   * hart under a virtual clock skips to the next deadline. Returns "idle"
   * when the hart waits and nothing scheduled can wake it.
   */
  private step(budget: number): "ran" | "waiting" | "idle" {
    const clock = this.clock;
    let n = Math.min(budget, this.slice);
    if (clock instanceof VirtualClock) {
      const next = this.timers.nextDeadline();
      if (next !== undefined) {
        const until = Math.ceil((next - clock.now()) / this.nsPerInstruction);
        n = Math.max(1, Math.min(n, until));
      }
    }
    const result = this.hart.run(n);
    this.retiredTotal += result.executed;
    if (clock instanceof VirtualClock) clock.advance(result.executed * this.nsPerInstruction);
    let fired = this.timers.runDue();
    if (!result.waiting) return "ran";
    if (clock instanceof VirtualClock) {
      const next = this.timers.nextDeadline();
      if (next !== undefined) {
        clock.advanceTo(next);
        fired += this.timers.runDue();
      }
    }
    if (fired > 0 || result.executed > 0) return "ran";
    return this.timers.nextDeadline() === undefined ? "idle" : "waiting";
  }

  private idle(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (!done) {
          done = true;
          this.wakeUp = undefined;
          resolve();
        }
      };
      this.wakeUp = finish;
      if (ms !== undefined) this.host?.sleep(ms).then(finish);
    });
  }
}
