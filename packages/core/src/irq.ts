/**
 * Interrupt wiring contract.
 *
 * An interrupt is a level. Interrupt controllers hand out lines (`IrqSink`),
 * and a hart exposes its timer, software and external interrupt inputs as
 * lines too, so devices and controllers never reach into each other's state.
 */

/** One level-triggered interrupt wire. */
export interface IrqLine {
  /** Drives the wire high (`true`) or low (`false`). Idempotent. */
  setLevel(high: boolean): void;
}

/** Something that owns numbered interrupt inputs (a PLIC, a hart). */
export interface IrqSink {
  /** Returns the line for input `source`. */
  irqLine(source: number): IrqLine;
}

/** A line that goes nowhere, for unwired device outputs. */
export const NO_IRQ: IrqLine = Object.freeze({ setLevel(): void {} });
