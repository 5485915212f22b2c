/**
 * An NS16550A UART as Linux's 8250 driver programs it, after the National
 * Semiconductor PC16550D datasheet (June 1995): 16-byte receiver FIFO with
 * trigger levels 1/4/8/14 (FCR), interrupt identification in priority order
 * (Table IV: receiver line status > received data available / character
 * timeout > THR empty > MODEM status), divisor latch behind LCR.DLAB,
 * diagnostic loopback (MCR bit 4) and the scratch register. Registers are one
 * byte wide at stride 1 (QEMU virt: reg-shift 0, reg-io-width 1).
 *
 * Receive: bytes are pulled from the CharBackend only while the receiver has
 * room (16 bytes in FIFO mode, 1 in 16450 mode), when the backend reports
 * input and whenever the guest makes room, so host input waits in the
 * backend instead of overrunning. Data below the trigger level raises the
 * character timeout indication after 4 character times without input or
 * reads, measured on the injected Timers at the programmed baud rate
 * (clock / (16 * divisor)) and frame format (start, data, parity, stop bits).
 *
 * Transmit: a byte written to THR goes to the CharBackend at once, so THR and
 * the transmitter are always empty (LSR.THRE and LSR.TEMT read 1) and the
 * THRE interrupt is set again right after every THR write.
 *
 * Deviations: no baud-rate pacing of transmission (above); parity, framing
 * and break errors never occur (the host link carries bytes, not line
 * signals), so LSR bits 2-4 and 7 read 0 and only overrun (loopback into a
 * full receiver) reaches the receiver line status interrupt; the MODEM
 * inputs of an unconnected port read CTS, DSR and DCD asserted, RI clear;
 * OUT2 does not gate the interrupt line (as on QEMU virt, where no PC-style
 * gate exists); data is not masked to the LCR word length (QEMU does not
 * mask it either, and bare-metal programs write THR without programming
 * LCR; the word length still sets the character time); the DMA mode bit and
 * RXRDY/TXRDY pins are not modelled; a divisor of 0 counts as 1 for the
 * timeout.
 *
 * Where QEMU 7.2 differs, this follows the datasheet: MCR resets to 0 (QEMU
 * sets OUT2), and MSR delta bits and MODEM status interrupts keep working in
 * loopback (QEMU reports none there).
 */
import {
  type CharBackend,
  InvalidArgumentError,
  type IrqLine,
  type MmioDevice,
  type NarrowWidth,
  type Snapshotable,
  type TimerHandle,
  type Timers,
  UnsupportedError,
} from "@backplane/core";
import {
  FCR,
  FCR_FIFO_ENABLE,
  FCR_RCVR_RESET,
  IER,
  IER_EDSSI,
  IER_ELSI,
  IER_ERBFI,
  IER_ETBEI,
  IIR,
  IIR_CTI,
  IIR_FIFOS,
  IIR_MS,
  IIR_NO_INT,
  IIR_RDA,
  IIR_RLS,
  IIR_THRE,
  LCR,
  LCR_DLAB,
  LCR_PEN,
  LCR_STB,
  LCR_WLS,
  LSR,
  LSR_DR,
  LSR_OE,
  LSR_TEMT,
  LSR_THRE,
  MCR,
  MCR_DTR,
  MCR_LOOP,
  MCR_OUT1,
  MCR_OUT2,
  MCR_RTS,
  MSR,
  MSR_CTS,
  MSR_DCD,
  MSR_DCTS,
  MSR_DDCD,
  MSR_DDSR,
  MSR_DSR,
  MSR_RI,
  MSR_TERI,
  RBR,
  SCR,
  THR,
} from "./registers.js";

/** Size of the register window on QEMU virt. */
export const UART16550_SIZE = 0x100;
/** Input clock of QEMU virt's UART (the device tree's `clock-frequency`). */
export const UART16550_VIRT_CLOCK_HZ = 3_686_400;
/** Depth of the receiver FIFO (the transmitter never fills: bytes leave at once). */
const FIFO_DEPTH = 16;
/** RCVR trigger levels selected by FCR bits 7:6. */
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
/** MODEM status inputs of a port with nothing attached (outside loopback). */
const MSR_IDLE_INPUTS = MSR_CTS | MSR_DSR | MSR_DCD;
/** MSR delta bits, cleared by reading MSR. */
const MSR_DELTAS = MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD;
/** Divisor latch value before the guest programs one (9600 baud at 1.8432 MHz). */
const RESET_DIVISOR = 12;

/** Hooks for metrics and tracing; all default to no-ops. */
export interface Uart16550Events {
  /** A byte left the UART for the CharBackend. */
  onTxByte?(byte: number): void;
  /** A received byte found the receiver full (overrun error). */
  onOverflow?(): void;
  /** The guest made an access the device does not implement. */
  onGuestError?(reason: string): void;
}

export interface Uart16550Options {
  /** Host side of the serial line. */
  readonly char: CharBackend;
  /** Interrupt output (QEMU virt: PLIC source 10). */
  readonly irq: IrqLine;
  /** Clock for the character timeout. */
  readonly timers: Timers;
  /** UART input clock in Hz (default 3686400, as on QEMU virt). */
  readonly clockHz?: number;
  readonly events?: Uart16550Events;
}

/** Saved state (the CharBackend, IRQ line and timers are constructor arguments). */
export interface Uart16550State {
  readonly version: 1;
  readonly ier: number;
  readonly lcr: number;
  readonly mcr: number;
  readonly scr: number;
  readonly dll: number;
  readonly dlm: number;
  readonly fifoEnabled: boolean;
  readonly triggerLevel: number;
  /** Received bytes not yet read, oldest first. */
  readonly rx: readonly number[];
  /** LSR error bits not yet read. */
  readonly lineErrors: number;
  readonly msr: number;
  readonly thrInterrupt: boolean;
  readonly timeoutIndication: boolean;
}

export class Uart16550 implements MmioDevice, Snapshotable<Uart16550State> {
  readonly size = UART16550_SIZE;
  readonly widths: readonly NarrowWidth[] = [1];
  private readonly char: CharBackend;
  private readonly irq: IrqLine;
  private readonly timers: Timers;
  private readonly clockHz: number;
  private readonly events: Uart16550Events;
  private readonly scratch = new Uint8Array(FIFO_DEPTH);

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = RESET_DIVISOR;
  private dlm = 0;
  private fifoEnabled = false;
  private triggerLevel: number = TRIGGER_LEVELS[0];
  private rx: number[] = [];
  private lineErrors = 0;
  private msr = MSR_IDLE_INPUTS;
  /** THRE interrupt source: set when THR empties, cleared by THR writes and IIR reads. */
  private thrInterrupt = false;
  private timeoutIndication = false;
  private timeoutTimer: TimerHandle | undefined;
  private readonly unsubscribe: () => void;

  constructor(options: Uart16550Options) {
    const clockHz = options.clockHz ?? UART16550_VIRT_CLOCK_HZ;
    if (!(Number.isFinite(clockHz) && clockHz > 0)) {
      throw new InvalidArgumentError(`UART clock must be a positive frequency, got ${clockHz}`);
    }
    this.char = options.char;
    this.irq = options.irq;
    this.timers = options.timers;
    this.clockHz = clockHz;
    this.events = options.events ?? {};
    this.unsubscribe = this.char.onReadable(() => this.pull());
    this.pull();
    this.updateIrq();
  }

  /**
   * Stops taking input from the CharBackend and cancels the timeout timer, so
   * the backend can be handed to a new UART (after a machine reset, say).
   */
  dispose(): void {
    this.unsubscribe();
    this.timeoutTimer?.cancel();
    this.timeoutTimer = undefined;
  }

  read(offset: number, width: NarrowWidth): number {
    if (width !== 1) return this.badAccess(`${width}-byte read`, offset);
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR:
        return dlab ? this.dll : this.readRbr();
      case IER:
        return dlab ? this.dlm : this.ier;
      case IIR:
        return this.readIir();
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR:
        return this.readLsr();
      case MSR:
        return this.readMsr();
      case SCR:
        return this.scr;
      default:
        return this.badAccess("read", offset);
    }
  }

  write(offset: number, width: NarrowWidth, value: number): void {
    if (width !== 1) {
      this.badAccess(`${width}-byte write`, offset);
      return;
    }
    const v = value & 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case THR:
        if (dlab) this.dll = v;
        else this.writeThr(v);
        break;
      case IER:
        if (dlab) this.dlm = v;
        else this.writeIer(v);
        break;
      case FCR:
        this.writeFcr(v);
        break;
      case LCR:
        this.lcr = v;
        break;
      case MCR:
        this.writeMcr(v);
        break;
      case SCR:
        this.scr = v;
        break;
      default:
        // LSR and MSR are read-only (writing them is a factory test mode).
        this.badAccess("write", offset);
    }
  }

  saveState(): Uart16550State {
    return {
      version: 1,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fifoEnabled: this.fifoEnabled,
      triggerLevel: this.triggerLevel,
      rx: [...this.rx],
      lineErrors: this.lineErrors,
      msr: this.msr,
      thrInterrupt: this.thrInterrupt,
      timeoutIndication: this.timeoutIndication,
    };
  }

  loadState(state: Uart16550State): void {
    if (state.version !== 1) throw new UnsupportedError(`uart16550 state version ${state.version}`);
    const levels: readonly number[] = TRIGGER_LEVELS;
    if (!levels.includes(state.triggerLevel) || state.rx.length > (state.fifoEnabled ? FIFO_DEPTH : 1)) {
      throw new InvalidArgumentError("uart16550 state has an impossible FIFO configuration");
    }
    this.ier = state.ier & 0x0f;
    this.lcr = state.lcr & 0xff;
    this.mcr = state.mcr & 0x1f;
    this.scr = state.scr & 0xff;
    this.dll = state.dll & 0xff;
    this.dlm = state.dlm & 0xff;
    this.fifoEnabled = state.fifoEnabled;
    this.triggerLevel = state.triggerLevel;
    this.rx = state.rx.map((b) => b & 0xff);
    this.lineErrors = state.lineErrors & LSR_OE;
    this.msr = state.msr & 0xff;
    this.thrInterrupt = state.thrInterrupt;
    this.timeoutIndication = state.timeoutIndication;
    this.restartTimeout();
    this.pull();
    this.updateIrq();
  }

  private readRbr(): number {
    const byte = this.rx.shift();
    if (byte === undefined) return 0;
    this.timeoutIndication = false;
    this.pull();
    this.restartTimeout();
    this.updateIrq();
    return byte;
  }

  private readIir(): number {
    const id = this.pendingInterrupt();
    if (id === IIR_THRE) {
      this.thrInterrupt = false;
      this.updateIrq();
    }
    return id | (this.fifoEnabled ? IIR_FIFOS : 0);
  }

  private readLsr(): number {
    const value = (this.rx.length > 0 ? LSR_DR : 0) | this.lineErrors | LSR_THRE | LSR_TEMT;
    if (this.lineErrors !== 0) {
      this.lineErrors = 0;
      this.updateIrq();
    }
    return value;
  }

  private readMsr(): number {
    const value = this.msr;
    if (value & MSR_DELTAS) {
      this.msr &= ~MSR_DELTAS;
      this.updateIrq();
    }
    return value;
  }

  private writeThr(byte: number): void {
    if (this.mcr & MCR_LOOP) {
      this.receive(byte);
      this.restartTimeout();
    } else {
      this.char.write(Uint8Array.of(byte));
      this.events.onTxByte?.(byte);
    }
    // The byte left THR at once: THR is empty again.
    this.thrInterrupt = true;
    this.updateIrq();
  }

  private writeIer(value: number): void {
    const enabling = (value & IER_ETBEI) !== 0 && (this.ier & IER_ETBEI) === 0;
    this.ier = value & 0x0f;
    if (enabling) this.thrInterrupt = true; // THR is always empty
    this.updateIrq();
  }

  private writeFcr(value: number): void {
    const enable = (value & FCR_FIFO_ENABLE) !== 0;
    if (enable !== this.fifoEnabled) {
      // Switching between FIFO and 16450 mode clears the FIFOs.
      this.fifoEnabled = enable;
      this.rx = [];
      this.timeoutIndication = false;
    }
    if (enable) {
      // The other bits are programmed only while FCR bit 0 is set.
      if (value & FCR_RCVR_RESET) {
        this.rx = [];
        this.timeoutIndication = false;
      }
      this.triggerLevel = TRIGGER_LEVELS[value >>> 6];
    }
    this.pull();
    this.restartTimeout();
    this.updateIrq();
  }

  private writeMcr(value: number): void {
    const wasLoop = (this.mcr & MCR_LOOP) !== 0;
    this.mcr = value & 0x1f;
    const loop = (this.mcr & MCR_LOOP) !== 0;
    const inputs = loop
      ? (this.mcr & MCR_RTS ? MSR_CTS : 0) |
        (this.mcr & MCR_DTR ? MSR_DSR : 0) |
        (this.mcr & MCR_OUT1 ? MSR_RI : 0) |
        (this.mcr & MCR_OUT2 ? MSR_DCD : 0)
      : MSR_IDLE_INPUTS;
    const changed = (this.msr ^ inputs) & ~MSR_DELTAS;
    let deltas = this.msr & MSR_DELTAS;
    if (changed & MSR_CTS) deltas |= MSR_DCTS;
    if (changed & MSR_DSR) deltas |= MSR_DDSR;
    if (changed & MSR_DCD) deltas |= MSR_DDCD;
    if (changed & MSR_RI && !(inputs & MSR_RI)) deltas |= MSR_TERI;
    this.msr = inputs | deltas;
    if (wasLoop && !loop) this.pull();
    this.updateIrq();
  }

  /** Moves backend input into the receiver while it has room (never in loopback). */
  private pull(): void {
    if (this.mcr & MCR_LOOP) return;
    const room = this.capacity() - this.rx.length;
    if (room <= 0) return;
    const n = this.char.read(this.scratch.subarray(0, room));
    if (n === 0) return;
    for (let i = 0; i < n; i++) this.receive(this.scratch[i]);
    this.restartTimeout();
    this.updateIrq();
  }

  /** A character arrives from the serial input (the backend, or THR in loopback). */
  private receive(byte: number): void {
    if (this.rx.length < this.capacity()) {
      this.rx.push(byte);
      return;
    }
    this.lineErrors |= LSR_OE;
    this.events.onOverflow?.();
    // In 16450 mode the new character overwrites the holding register; a full FIFO keeps its contents.
    if (!this.fifoEnabled) this.rx[0] = byte;
  }

  /** Restarts the 4-character-time timeout after receiver activity. */
  private restartTimeout(): void {
    this.timeoutTimer?.cancel();
    this.timeoutTimer = undefined;
    if (!this.fifoEnabled || this.rx.length === 0 || this.timeoutIndication) return;
    this.timeoutTimer = this.timers.at(this.timers.now() + 4 * this.characterNs(), () => {
      this.timeoutTimer = undefined;
      this.timeoutIndication = true;
      this.updateIrq();
    });
  }

  /** Duration of one character frame at the programmed baud rate and format. */
  private characterNs(): number {
    const wordLength = 5 + (this.lcr & LCR_WLS);
    const stopBits = this.lcr & LCR_STB ? (wordLength === 5 ? 1.5 : 2) : 1;
    const bits = 1 + wordLength + (this.lcr & LCR_PEN ? 1 : 0) + stopBits;
    const divisor = (this.dlm << 8) | this.dll || 1;
    return Math.ceil((bits * 16 * divisor * 1e9) / this.clockHz);
  }

  private capacity(): number {
    return this.fifoEnabled ? FIFO_DEPTH : 1;
  }

  /** The highest-priority enabled interrupt, as IIR bits 3:0. */
  private pendingInterrupt(): number {
    if (this.ier & IER_ELSI && this.lineErrors !== 0) return IIR_RLS;
    if (this.ier & IER_ERBFI) {
      if (this.rx.length >= (this.fifoEnabled ? this.triggerLevel : 1)) return IIR_RDA;
      if (this.timeoutIndication) return IIR_CTI;
    }
    if (this.ier & IER_ETBEI && this.thrInterrupt) return IIR_THRE;
    if (this.ier & IER_EDSSI && this.msr & MSR_DELTAS) return IIR_MS;
    return IIR_NO_INT;
  }

  private updateIrq(): void {
    this.irq.setLevel(this.pendingInterrupt() !== IIR_NO_INT);
  }

  private badAccess(kind: string, offset: number): number {
    this.events.onGuestError?.(`unsupported ${kind} at offset 0x${offset.toString(16)}`);
    return 0;
  }
}
