/**
 * A RISC-V Platform-Level Interrupt Controller in the SiFive layout QEMU's
 * `virt` board uses (RISC-V PLIC Specification 1.0.0, chapter 3 memory map).
 *
 *   0x000000 + 4*src            source priority (WARL, 0 = never interrupts)
 *   0x001000 + 4*word           pending bits, read-only
 *   0x002000 + 0x80*ctx + 4*w   enable bits of context `ctx`
 *   0x200000 + 0x1000*ctx       priority threshold of context `ctx`
 *   0x200004 + 0x1000*ctx       claim (read) / complete (write)
 *
 * Interrupt IDs run from 1 to `numSources - 1`; ID 0 means "no interrupt".
 * Every source has a level-triggered gateway (spec chapter 1, "Interrupt
 * Gateways"): the first assertion of its line sets its pending bit; a claim
 * returns the enabled pending source with the highest priority (lowest ID on
 * ties, whatever the threshold), clears its pending bit and marks it in
 * flight; when the context writes the ID back to complete it, the source
 * pends again if its line is still high. A line that drops before the claim
 * leaves the request pending, as the spec says. Each context drives one output
 * line, high while some enabled pending source has a priority above the
 * context's threshold. On QEMU virt, context 2*hart is the hart's M-mode
 * (MEIP) and 2*hart+1 its S-mode (SEIP).
 *
 * Completing an ID that is not enabled for the context, or not in flight, is
 * ignored ("Interrupt Completion") and reported to `onGuestError`.
 *
 * Where QEMU 7.2 differs, this follows the spec: QEMU does not re-pend a
 * still-asserted source on completion (its devices re-assert on their next
 * register access), lets the threshold gate claims, leaves enable bit 0
 * writable and does not update its outputs on enable writes.
 */
import {
  InvalidArgumentError,
  type IrqLine,
  type IrqSink,
  type MmioDevice,
  type NarrowWidth,
  type Snapshotable,
  UnsupportedError,
} from "@backplane/core";

/** Offset of the source priority registers (source N at 4*N). */
export const PRIORITY_BASE = 0x000000;
/** Offset of the pending bit words. */
export const PENDING_BASE = 0x001000;
/** Offset of context 0's enable bit words. */
export const ENABLE_BASE = 0x002000;
/** Distance between two contexts' enable blocks. */
export const ENABLE_STRIDE = 0x80;
/** Offset of context 0's priority threshold register. */
export const CONTEXT_BASE = 0x200000;
/** Distance between two contexts' threshold/claim blocks. */
export const CONTEXT_STRIDE = 0x1000;
/** Offset of the threshold register inside a context block. */
export const CONTEXT_THRESHOLD = 0x0;
/** Offset of the claim/complete register inside a context block. */
export const CONTEXT_CLAIM = 0x4;

/** Interrupt IDs on QEMU virt (0 plus 95 sources; the device tree's `riscv,ndev` is 95). */
export const VIRT_PLIC_NUM_SOURCES = 96;
/** Highest priority on QEMU virt (3 priority bits). */
export const VIRT_PLIC_MAX_PRIORITY = 7;
/** The spec's limits: 1024 interrupt IDs, 15872 contexts. */
const MAX_SOURCES = 1024;
const MAX_CONTEXTS = (0x4000000 - CONTEXT_BASE) / CONTEXT_STRIDE;

/** Hooks for tracing; all default to no-ops. */
export interface PlicEvents {
  /** A context read its claim register with nothing to claim (Linux does this once per interrupt). */
  onSpuriousClaim?(context: number): void;
  /** The guest made an access the device does not implement or a meaningless completion. */
  onGuestError?(reason: string): void;
}

export interface PlicOptions {
  /** One output line per context, in context order (QEMU virt: [hart0 MEIP, hart0 SEIP, hart1 MEIP, ...]). */
  readonly contexts: readonly IrqLine[];
  /** Number of interrupt IDs including 0 (default 96, as on QEMU virt). */
  readonly numSources?: number;
  /** Highest priority; must be 2^k - 1 (default 7, as on QEMU virt). */
  readonly maxPriority?: number;
  readonly events?: PlicEvents;
}

/** Saved state. Arrays indexed by interrupt ID have `numSources` entries. */
export interface PlicState {
  readonly version: 1;
  readonly priority: readonly number[];
  /** Input line levels. */
  readonly level: readonly boolean[];
  readonly pending: readonly boolean[];
  /** Claimed and not yet completed. */
  readonly inFlight: readonly boolean[];
  /** Per context, the enable bit words. */
  readonly enable: readonly (readonly number[])[];
  readonly threshold: readonly number[];
}

export class Plic implements MmioDevice, IrqSink, Snapshotable<PlicState> {
  readonly size: number;
  readonly widths: readonly NarrowWidth[] = [4];
  readonly numSources: number;
  private readonly maxPriority: number;
  private readonly outputs: readonly IrqLine[];
  private readonly events: PlicEvents;
  private readonly words: number;
  private readonly priority: number[];
  private readonly level: boolean[];
  private readonly pending: boolean[];
  private readonly inFlight: boolean[];
  private readonly enable: Uint32Array[];
  private readonly threshold: number[];
  private readonly inputs: IrqLine[] = [];

  constructor(options: PlicOptions) {
    const n = options.numSources ?? VIRT_PLIC_NUM_SOURCES;
    const maxPriority = options.maxPriority ?? VIRT_PLIC_MAX_PRIORITY;
    const contexts = options.contexts.length;
    if (!Number.isInteger(n) || n < 2 || n > MAX_SOURCES) {
      throw new InvalidArgumentError(`numSources must be 2 to ${MAX_SOURCES}, got ${n}`);
    }
    if (!Number.isInteger(maxPriority) || maxPriority < 1 || (maxPriority & (maxPriority + 1)) !== 0) {
      throw new InvalidArgumentError(`maxPriority must be 2^k - 1, got ${maxPriority}`);
    }
    if (contexts < 1 || contexts > MAX_CONTEXTS) {
      throw new InvalidArgumentError(`the PLIC supports 1 to ${MAX_CONTEXTS} contexts, got ${contexts}`);
    }
    this.numSources = n;
    this.maxPriority = maxPriority;
    this.outputs = options.contexts;
    this.events = options.events ?? {};
    this.size = CONTEXT_BASE + CONTEXT_STRIDE * contexts;
    this.words = Math.ceil(n / 32);
    this.priority = new Array<number>(n).fill(0);
    this.level = new Array<boolean>(n).fill(false);
    this.pending = new Array<boolean>(n).fill(false);
    this.inFlight = new Array<boolean>(n).fill(false);
    this.enable = Array.from({ length: contexts }, () => new Uint32Array(this.words));
    this.threshold = new Array<number>(contexts).fill(0);
    for (let src = 1; src < n; src++) {
      this.inputs[src] = { setLevel: (high) => this.setSourceLevel(src, high) };
    }
    this.update();
  }

  /** The input line of interrupt source `source` (1 to numSources - 1). */
  irqLine(source: number): IrqLine {
    const line = this.inputs[source];
    if (line === undefined) {
      throw new InvalidArgumentError(`PLIC source ${source} is not in 1..${this.numSources - 1}`);
    }
    return line;
  }

  read(offset: number, width: NarrowWidth): number {
    if (!this.aligned(offset, width)) return 0;
    if (offset < PENDING_BASE) {
      const src = (offset - PRIORITY_BASE) / 4;
      if (src >= 1 && src < this.numSources) return this.priority[src];
    } else if (offset < ENABLE_BASE) {
      const word = (offset - PENDING_BASE) / 4;
      if (word < this.words) return this.packWord(this.pending, word);
    } else if (offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) / 4;
      if (ctx < this.enable.length && word < this.words) return this.enable[ctx][word];
    } else {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (ctx < this.enable.length && reg === CONTEXT_THRESHOLD) return this.threshold[ctx];
      if (ctx < this.enable.length && reg === CONTEXT_CLAIM) return this.claim(ctx);
    }
    this.events.onGuestError?.(`read of unimplemented offset 0x${offset.toString(16)}`);
    return 0;
  }

  write(offset: number, width: NarrowWidth, value: number): void {
    if (!this.aligned(offset, width)) return;
    if (offset < PENDING_BASE) {
      const src = (offset - PRIORITY_BASE) / 4;
      if (src >= 1 && src < this.numSources) {
        this.priority[src] = value & this.maxPriority;
        this.update();
        return;
      }
    } else if (offset >= ENABLE_BASE && offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) / 4;
      if (ctx < this.enable.length && word < this.words) {
        this.enable[ctx][word] = value & this.validMask(word);
        this.update();
        return;
      }
    } else if (offset >= CONTEXT_BASE) {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (ctx < this.enable.length && reg === CONTEXT_THRESHOLD) {
        this.threshold[ctx] = value & this.maxPriority;
        this.update();
        return;
      }
      if (ctx < this.enable.length && reg === CONTEXT_CLAIM) {
        this.complete(ctx, value >>> 0);
        return;
      }
    }
    this.events.onGuestError?.(`write to unimplemented or read-only offset 0x${offset.toString(16)}`);
  }

  saveState(): PlicState {
    return {
      version: 1,
      priority: [...this.priority],
      level: [...this.level],
      pending: [...this.pending],
      inFlight: [...this.inFlight],
      enable: this.enable.map((words) => [...words]),
      threshold: [...this.threshold],
    };
  }

  loadState(state: PlicState): void {
    if (state.version !== 1) throw new UnsupportedError(`plic state version ${state.version}`);
    const n = this.numSources;
    if (
      [state.priority, state.level, state.pending, state.inFlight].some((a) => a.length !== n) ||
      state.enable.length !== this.enable.length ||
      state.threshold.length !== this.threshold.length ||
      state.enable.some((words) => words.length !== this.words)
    ) {
      throw new InvalidArgumentError("plic state does not match this PLIC's sources and contexts");
    }
    for (let src = 0; src < n; src++) {
      this.priority[src] = state.priority[src] & this.maxPriority;
      this.level[src] = state.level[src];
      this.pending[src] = state.pending[src];
      this.inFlight[src] = state.inFlight[src];
    }
    state.enable.forEach((words, ctx) => {
      this.enable[ctx].set(words.map((w, i) => w & this.validMask(i)));
    });
    state.threshold.forEach((t, ctx) => {
      this.threshold[ctx] = t & this.maxPriority;
    });
    this.update();
  }

  private setSourceLevel(src: number, high: boolean): void {
    if (this.level[src] === high) return;
    this.level[src] = high;
    if (high && !this.inFlight[src]) {
      this.pending[src] = true;
      this.update();
    }
  }

  /** Best claimable source for `ctx` with priority above `floor`, or 0. */
  private best(ctx: number, floor: number): number {
    const enabled = this.enable[ctx];
    let best = 0;
    let bestPriority = floor;
    for (let src = 1; src < this.numSources; src++) {
      if (this.pending[src] && this.priority[src] > bestPriority && (enabled[src >>> 5] >>> (src & 31)) & 1) {
        best = src;
        bestPriority = this.priority[src];
      }
    }
    return best;
  }

  private claim(ctx: number): number {
    const src = this.best(ctx, 0);
    if (src === 0) {
      this.events.onSpuriousClaim?.(ctx);
      return 0;
    }
    this.pending[src] = false;
    this.inFlight[src] = true;
    this.update();
    return src;
  }

  private complete(ctx: number, src: number): void {
    const enabled =
      src >= 1 && src < this.numSources && ((this.enable[ctx][src >>> 5] >>> (src & 31)) & 1) === 1;
    if (!enabled || !this.inFlight[src]) {
      this.events.onGuestError?.(`context ${ctx} completed ID ${src}, which it cannot have claimed`);
      return;
    }
    this.inFlight[src] = false;
    this.pending[src] = this.level[src];
    this.update();
  }

  private update(): void {
    for (let ctx = 0; ctx < this.outputs.length; ctx++) {
      this.outputs[ctx].setLevel(this.best(ctx, this.threshold[ctx]) !== 0);
    }
  }

  private packWord(bits: readonly boolean[], word: number): number {
    let value = 0;
    for (let i = 0; i < 32; i++) if (bits[word * 32 + i]) value |= 1 << i;
    return value >>> 0;
  }

  /** Enable bits that name real sources (ID 0 is hardwired to zero). */
  private validMask(word: number): number {
    let mask = 0;
    for (let i = 0; i < 32; i++) {
      const src = word * 32 + i;
      if (src >= 1 && src < this.numSources) mask |= 1 << i;
    }
    return mask >>> 0;
  }

  private aligned(offset: number, width: NarrowWidth): boolean {
    if (width === 4 && offset % 4 === 0) return true;
    this.events.onGuestError?.(`unsupported ${width}-byte access at 0x${offset.toString(16)}`);
    return false;
  }
}
