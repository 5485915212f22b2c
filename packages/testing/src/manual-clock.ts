/**
 * ManualClock: a deterministic {@link Timers} whose time moves only when the
 * test says so.
 *
 * `advance(ns)` and `set(ns)` walk time forward and fire every timer that
 * falls due on the way, in deadline order (timers with equal deadlines fire in
 * the order they were created). While a callback runs, `now()` reads that
 * timer's deadline, so a device that re-arms from its callback sees exact
 * time; a timer armed from a callback fires in the same walk if it falls due
 * before the target time. A timer whose deadline has already passed when it
 * is armed fires on the next dispatch (the next `advance`, `set` or
 * `runDue`), as core's `Timers.at` allows, never inside `at` itself.
 */
import { InvalidArgumentError, type TimerHandle, type Timers } from "@backplane/core";

interface Pending {
  readonly deadline: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

export class ManualClock implements Timers {
  private time: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(startNs = 0) {
    if (!Number.isFinite(startNs) || startNs < 0) {
      throw new InvalidArgumentError(`start time must be a non-negative number, got ${startNs}`);
    }
    this.time = startNs;
  }

  now(): number {
    return this.time;
  }

  at(deadlineNs: number, callback: () => void): TimerHandle {
    if (Number.isNaN(deadlineNs)) throw new InvalidArgumentError("timer deadline is NaN");
    const entry: Pending = { deadline: deadlineNs, seq: this.seq++, callback, cancelled: false };
    this.pending.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Number of armed, uncancelled timers. */
  get pendingCount(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  /** Earliest armed deadline, or `undefined` when no timer is armed. */
  nextDeadline(): number | undefined {
    return this.nextDue(Number.POSITIVE_INFINITY)?.deadline;
  }

  /** Moves time forward by `ns`, firing due timers. */
  advance(ns: number): void {
    if (!Number.isFinite(ns) || ns < 0) throw new InvalidArgumentError(`cannot advance by ${ns} ns`);
    this.set(this.time + ns);
  }

  /** Moves time forward to `ns` (never backwards), firing due timers. */
  set(ns: number): void {
    if (!Number.isFinite(ns) || ns < this.time) {
      throw new InvalidArgumentError(`cannot move the clock from ${this.time} to ${ns} ns`);
    }
    for (let due = this.nextDue(ns); due !== undefined; due = this.nextDue(ns)) {
      due.cancelled = true;
      this.pending = this.pending.filter((p) => !p.cancelled);
      this.time = Math.max(this.time, due.deadline);
      due.callback();
    }
    this.time = ns;
  }

  /** Fires timers already due without moving time. */
  runDue(): void {
    this.set(this.time);
  }

  private nextDue(limit: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.pending) {
      if (p.cancelled || p.deadline > limit) continue;
      if (
        best === undefined ||
        p.deadline < best.deadline ||
        (p.deadline === best.deadline && p.seq < best.seq)
      ) {
        best = p;
      }
    }
    return best;
  }
}
