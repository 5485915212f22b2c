/**
 * Time contracts, injected into every device that needs time.
 *
 * Devices never call `Date.now`, `setTimeout` or `performance.now`. Time is a
 * count of nanoseconds on a monotonic timeline that starts at machine creation
 * (numbers stay exact for about 104 days). A deterministic implementation
 * (time follows executed instructions) and a host-time one live in the
 * scheduler; a manual one in `@backplane/testing`.
 */

/** A monotonic time source. */
export interface Clock {
  /** Current time in nanoseconds. */
  now(): number;
}

/** A pending timer; cancelling twice is harmless. */
export interface TimerHandle {
  cancel(): void;
}

/** A clock that can also call back at a deadline. */
export interface Timers extends Clock {
  /**
   * Calls `callback` once the clock reaches `deadlineNs` (at once, from the
   * next dispatch, if the deadline has already passed).
   */
  at(deadlineNs: number, callback: () => void): TimerHandle;
}

/** Wall-clock time of day, for real-time clocks (goldfish RTC). */
export interface WallClock {
  /** Nanoseconds since the Unix epoch, as a bigint. */
  epochNs(): bigint;
}
