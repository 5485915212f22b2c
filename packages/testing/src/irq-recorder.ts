/**
 * IrqRecorder: an {@link IrqLine} for tests that remembers what was done to it.
 *
 * It keeps the current level, every level change in order and the number of
 * rising edges, so a test can assert "the device raised its interrupt once and
 * dropped it again" without wiring a real interrupt controller. Repeated
 * `setLevel` calls with the same level are not changes and are not recorded
 * (an IRQ line is idempotent), but they are counted in `calls`.
 */
import type { IrqLine } from "@backplane/core";

export class IrqRecorder implements IrqLine {
  /** Current level of the line. */
  level = false;
  /** Levels the line changed to, oldest first. */
  readonly history: boolean[] = [];
  /** Number of low-to-high transitions. */
  risingEdges = 0;
  /** Number of `setLevel` calls, including ones that did not change the level. */
  calls = 0;

  setLevel(high: boolean): void {
    this.calls++;
    if (high === this.level) return;
    this.level = high;
    this.history.push(high);
    if (high) this.risingEdges++;
  }

  /** Forgets the history and counters; keeps the current level. */
  clear(): void {
    this.history.length = 0;
    this.risingEdges = 0;
    this.calls = 0;
  }
}
