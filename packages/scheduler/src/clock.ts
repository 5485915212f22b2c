/**
 * Time sources for a machine: a virtual clock that only moves when the run
 * loop advances it (deterministic; guest time follows retired instructions)
 * and a host clock that follows an injected monotonic host timer.
 * Both count nanoseconds from machine creation (core's `Clock` contract).
 */
import { type Clock, InvalidArgumentError } from "@backplane/core";

/** A clock moved explicitly by the run loop. */
export class VirtualClock implements Clock {
  private ns = 0;

  now(): number {
    return this.ns;
  }

  /** Moves time forward by `ns` nanoseconds. */
  advance(ns: number): void {
    if (!(ns >= 0)) throw new InvalidArgumentError(`cannot advance virtual time by ${ns} ns`);
    this.ns += ns;
  }

  /** Moves time forward to `ns`; earlier values are ignored (time never runs backwards). */
  advanceTo(ns: number): void {
    if (ns > this.ns) this.ns = ns;
  }
}

/** Reads a host monotonic timer in nanoseconds (e.g. `performance.now() * 1e6`). */
export type HostTimeSource = () => number;

/** A clock that follows host time, starting at 0 when created. */
export class HostClock implements Clock {
  private readonly origin: number;
  private last = 0;

  constructor(private readonly source: HostTimeSource) {
    this.origin = source();
  }

  now(): number {
    // Clamp so that a host timer glitch never makes guest time run backwards.
    const t = this.source() - this.origin;
    if (t > this.last) this.last = t;
    return this.last;
  }
}
