/**
 * A timer queue implementing core's `Timers` on top of any `Clock`: a binary
 * min-heap of deadlines, dispatched by the run loop. Timers with equal
 * deadlines fire in the order they were set, so runs are reproducible.
 */
import type { Clock, TimerHandle, Timers } from "@backplane/core";

interface Entry {
  deadline: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

const before = (a: Entry, b: Entry): boolean =>
  a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);

/** Pending timers ordered by deadline. */
export class TimerQueue implements Timers {
  private readonly heap: Entry[] = [];
  private seq = 0;
  private live = 0;

  constructor(private readonly clock: Clock) {}

  now(): number {
    return this.clock.now();
  }

  at(deadlineNs: number, callback: () => void): TimerHandle {
    const entry: Entry = { deadline: deadlineNs, seq: this.seq++, callback, cancelled: false };
    this.push(entry);
    this.live++;
    return {
      cancel: () => {
        if (!entry.cancelled) {
          entry.cancelled = true;
          this.live--;
        }
      },
    };
  }

  /** Number of timers still pending. */
  get size(): number {
    return this.live;
  }

  /** Deadline of the earliest pending timer, or undefined when none is pending. */
  nextDeadline(): number | undefined {
    this.dropCancelled();
    return this.heap.length > 0 ? this.heap[0].deadline : undefined;
  }

  /**
   * Runs every timer whose deadline is at or before the current time, in
   * deadline order (timers set by callbacks run too if already due).
   * Returns how many ran.
   */
  runDue(): number {
    let ran = 0;
    const now = this.clock.now();
    for (;;) {
      this.dropCancelled();
      const top = this.heap[0];
      if (top === undefined || top.deadline > now) return ran;
      this.pop();
      top.cancelled = true;
      this.live--;
      ran++;
      top.callback();
    }
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Entry;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
