import { InvalidArgumentError, UnsupportedError } from "@backplane/core";
import { fuzzMmio, IrqRecorder, ManualClock, MemoryCharBackend } from "@backplane/testing";
import { describe, expect, it } from "vitest";
import {
  DLL,
  DLM,
  FCR,
  IER,
  IIR,
  LCR,
  LSR,
  MCR,
  MSR,
  RBR,
  SCR,
  THR,
  Uart16550,
  type Uart16550Events,
} from "./index.js";

// Values from the PC16550D datasheet, written out rather than imported so the
// tests check the register map too.
const IIR_NONE = 0x01;
const IIR_FIFO_NONE = 0xc1;
const FIFO_BITS = 0xc0;

function make(char = new MemoryCharBackend(), clock = new ManualClock()) {
  const irq = new IrqRecorder();
  const counts = { tx: [] as number[], overflow: 0, errors: 0 };
  const events: Uart16550Events = {
    onTxByte: (b) => counts.tx.push(b),
    onOverflow: () => counts.overflow++,
    onGuestError: () => counts.errors++,
  };
  const uart = new Uart16550({ char, irq, timers: clock, events });
  const r = (reg: number) => uart.read(reg, 1);
  const w = (reg: number, v: number) => uart.write(reg, 1, v);
  return { uart, char, irq, clock, counts, r, w };
}

/** What Linux's 8250 driver does at startup for a 16550A at 115200 8N1, trigger level 8. */
function linuxInit({ w }: ReturnType<typeof make>, divisor = 2) {
  w(LCR, 0x80);
  w(DLL, divisor & 0xff);
  w(DLM, divisor >> 8);
  w(LCR, 0x03);
  w(FCR, 0x81 | 0x06);
  w(IER, 0x05); // ERBFI | ELSI
}

describe("Uart16550 reset and configuration", () => {
  it("comes out of reset with the datasheet's register values", () => {
    const { r, irq } = make();
    expect([r(IER), r(IIR), r(LCR), r(MCR), r(LSR)]).toEqual([0, IIR_NONE, 0, 0, 0x60]);
    expect(r(MSR)).toBe(0xb0); // CTS, DSR, DCD of an idle port
    expect(irq.level).toBe(false);
  });

  it("hides the divisor latch behind LCR.DLAB", () => {
    const { r, w, char } = make();
    w(LCR, 0x83);
    w(DLL, 0x34);
    w(DLM, 0x12);
    expect([r(DLL), r(DLM)]).toEqual([0x34, 0x12]);
    w(LCR, 0x03);
    w(THR, 0x41);
    w(IER, 0x00);
    expect(char.outputText).toBe("A");
    w(LCR, 0x83);
    expect([r(DLL), r(DLM)]).toEqual([0x34, 0x12]);
  });

  it("keeps the scratch register and sends whole bytes even before LCR is programmed", () => {
    const { r, w, char } = make();
    w(SCR, 0xa5);
    expect(r(SCR)).toBe(0xa5);
    w(THR, 0xff); // LCR = 0 (5-bit words) at reset: bare-metal programs rely on this
    expect([...char.output]).toEqual([0xff]);
  });
});

describe("Uart16550 transmit", () => {
  it("sends THR bytes to the backend at once, leaving THR and the transmitter empty", () => {
    const u = make();
    const { r, w, char, counts } = u;
    linuxInit(u);
    for (const c of "hi\n") w(THR, c.charCodeAt(0));
    expect(char.outputText).toBe("hi\n");
    expect(counts.tx).toEqual([0x68, 0x69, 0x0a]);
    expect(r(LSR) & 0x60).toBe(0x60);
  });

  it("raises THRE when ETBEI is enabled, clears it by the IIR read that reports it, re-raises it after THR writes", () => {
    const u = make();
    const { r, w, irq } = u;
    linuxInit(u);
    w(IER, 0x07);
    expect(irq.level).toBe(true);
    expect(r(IIR)).toBe(FIFO_BITS | 0x02);
    expect(irq.level).toBe(false);
    expect(r(IIR)).toBe(IIR_FIFO_NONE);
    w(IER, 0x07); // already enabled: no new interrupt
    expect(irq.level).toBe(false);
    w(THR, 0x2e);
    expect(irq.level).toBe(true);
    w(IER, 0x05); // masking it drops the line
    expect(irq.level).toBe(false);
    // Linux's UART_BUG_THRE probe: enable, read IIR, disable, enable, read IIR.
    w(IER, 0x02);
    const iir1 = r(IIR);
    w(IER, 0);
    w(IER, 0x02);
    const iir2 = r(IIR);
    expect([iir1, iir2]).toEqual([FIFO_BITS | 0x02, FIFO_BITS | 0x02]);
  });
});

describe("Uart16550 receive", () => {
  it("holds one byte in 16450 mode and leaves the rest of the input in the backend", () => {
    const { r, w, char, irq } = make();
    w(IER, 0x01);
    char.push("ab");
    expect(char.pendingInput).toBe(1);
    expect(r(LSR) & 0x01).toBe(1);
    expect(irq.level).toBe(true);
    expect(r(IIR)).toBe(0x04);
    expect(r(RBR)).toBe(0x61);
    expect(r(RBR)).toBe(0x62);
    expect(r(LSR) & 0x01).toBe(0);
    expect(irq.level).toBe(false);
  });

  it.each([
    [0x00, 1],
    [0x40, 4],
    [0x80, 8],
    [0xc0, 14],
  ])("FCR trigger bits 0x%s signal received data at %i bytes", (bits, level) => {
    const { r, w, char, irq } = make();
    w(FCR, 0x01 | bits);
    w(IER, 0x01);
    char.push("x".repeat(level - 1));
    expect(r(IIR)).toBe(IIR_FIFO_NONE);
    expect(irq.level).toBe(false);
    char.push("y");
    expect(irq.level).toBe(true);
    expect(r(IIR)).toBe(FIFO_BITS | 0x04);
  });

  it("applies back-pressure: the FIFO takes 16 bytes, the rest waits, nothing overruns", () => {
    const { r, w, char, counts } = make();
    w(FCR, 0x01);
    const text = "abcdefghijklmnopqrst";
    char.push(text);
    expect(char.pendingInput).toBe(4);
    r(RBR);
    expect(char.pendingInput).toBe(3);
    let got = "a";
    while (r(LSR) & 0x01) got += String.fromCharCode(r(RBR));
    expect(got).toBe(text);
    expect(counts.overflow).toBe(0);
  });

  it("signals a character timeout after 4 character times without input or reads", () => {
    const u = make();
    const { r, char, clock, irq } = u;
    linuxInit(u);
    // 115200 baud 8N1: 10 bits of 16 clocks per bit at 3686400 / 2 Hz.
    const fourChars = (4 * 10 * 16 * 2 * 1e9) / 3_686_400;
    char.push("abc");
    clock.advance(fourChars / 2);
    char.push("d"); // new input restarts the timer
    clock.advance(fourChars - 10);
    expect(irq.level).toBe(false);
    clock.advance(20);
    expect(irq.level).toBe(true);
    expect(r(IIR)).toBe(FIFO_BITS | 0x0c);
    expect(r(RBR)).toBe(0x61); // reading a character clears the indication
    expect(irq.level).toBe(false);
    expect(r(IIR)).toBe(IIR_FIFO_NONE);
    clock.advance(fourChars + 10);
    expect(r(IIR)).toBe(FIFO_BITS | 0x0c);
  });

  it("scales the timeout with the baud rate", () => {
    const u = make();
    linuxInit(u, 24); // 9600 baud
    const fourChars = (4 * 10 * 16 * 24 * 1e9) / 3_686_400;
    u.char.push("a");
    u.clock.advance(fourChars - 10);
    expect(u.irq.level).toBe(false);
    u.clock.advance(20);
    expect(u.irq.level).toBe(true);
  });

  it("clears the receiver on FCR resets and FIFO mode changes, programs FCR only with bit 0 set", () => {
    const { r, w, char } = make();
    w(FCR, 0x01);
    char.push("abc");
    w(FCR, 0x03); // reset RCVR FIFO
    expect(r(LSR) & 0x01).toBe(0);
    char.push("de");
    w(FCR, 0xc0); // FIFOs off: cleared, trigger bits ignored
    expect(r(IIR) & FIFO_BITS).toBe(0);
    expect(r(LSR) & 0x01).toBe(0);
    w(FCR, 0x01);
    w(IER, 0x01);
    char.push("f");
    expect(r(IIR)).toBe(FIFO_BITS | 0x04); // trigger level still 1
  });
});

describe("Uart16550 loopback", () => {
  it("loops TX to RX, leaves host input alone, and loops MCR outputs to MSR", () => {
    const { r, w, char } = make();
    w(MCR, 0x10 | 0x02 | 0x08); // LOOP | RTS | OUT2, as Linux's autoconfig probe
    expect(r(MSR) & 0xf0).toBe(0x90); // CTS | DCD
    char.push("z");
    expect(char.pendingInput).toBe(1);
    w(THR, 0x55);
    expect(char.output.length).toBe(0);
    expect(r(RBR)).toBe(0x55);
    w(MCR, 0x10 | 0x04); // OUT1 -> RI
    expect(r(MSR) & 0x40).toBe(0x40);
    w(MCR, 0x10);
    expect(r(MSR) & 0x04).toBe(0x04); // trailing edge of RI
    w(MCR, 0x00);
    expect(r(RBR)).toBe(0x7a); // leaving loopback lets host input in
  });

  it("orders interrupts: line status > data > THRE > modem status", () => {
    const { r, w, irq, counts } = make();
    w(FCR, 0x01);
    w(MCR, 0x10); // entering loopback drops CTS/DSR/DCD: modem status deltas
    for (let i = 0; i < 17; i++) w(THR, i); // the 17th overruns the FIFO
    expect(counts.overflow).toBe(1);
    w(IER, 0x0f);
    expect(r(IIR)).toBe(FIFO_BITS | 0x06);
    expect(r(LSR) & 0x03).toBe(0x03); // DR | OE; reading clears OE
    expect(r(IIR)).toBe(FIFO_BITS | 0x04);
    const got: number[] = [];
    while (r(LSR) & 0x01) got.push(r(RBR));
    expect(got).toEqual([...Array(16).keys()]);
    expect(r(IIR)).toBe(FIFO_BITS | 0x02);
    expect(r(IIR)).toBe(FIFO_BITS | 0x00);
    expect(r(MSR) & 0x0f).toBe(0x0b); // DCTS | DDSR | DDCD; reading clears them
    expect(r(IIR)).toBe(IIR_FIFO_NONE);
    expect(irq.level).toBe(false);
  });

  it("overwrites the holding register on overrun in 16450 mode", () => {
    const { r, w } = make();
    w(MCR, 0x10);
    w(THR, 1);
    w(THR, 2);
    expect(r(LSR) & 0x03).toBe(0x03);
    expect(r(RBR)).toBe(2);
    expect(r(LSR) & 0x03).toBe(0);
  });
});

describe("Uart16550 dispose", () => {
  it("stops pulling input so the backend can serve a new UART", () => {
    const old = make();
    old.w(FCR, 0x01);
    old.uart.dispose();
    expect(old.char.listenerCount).toBe(0);
    const next = make(old.char);
    next.w(FCR, 0x01);
    old.char.push("ab");
    expect(old.r(LSR) & 0x01).toBe(0);
    expect(next.r(RBR)).toBe(0x61);
    expect(next.r(RBR)).toBe(0x62);
  });
});

describe("Uart16550 guest errors", () => {
  it("ignores and counts bad offsets, writes to status registers and wide accesses", () => {
    const { uart, w, r, counts } = make();
    expect(r(8)).toBe(0);
    w(LSR, 0xff);
    w(MSR, 0xff);
    expect(uart.read(0, 4)).toBe(0);
    expect(r(LSR)).toBe(0x60);
    expect(counts.errors).toBe(4);
  });

  it("rejects a bad clock from the host", () => {
    expect(
      () =>
        new Uart16550({
          char: new MemoryCharBackend(),
          irq: new IrqRecorder(),
          timers: new ManualClock(),
          clockHz: 0,
        }),
    ).toThrow(InvalidArgumentError);
  });
});

describe("Uart16550 snapshot", () => {
  it("restores configuration, FIFO contents and pending interrupts into a fresh instance", () => {
    const a = make();
    linuxInit(a);
    a.w(SCR, 0x42);
    a.w(IER, 0x07);
    a.char.push("hello");
    const fourChars = (4 * 10 * 16 * 2 * 1e9) / 3_686_400;
    a.clock.advance(fourChars + 10); // timeout indicated
    const state = structuredClone(a.uart.saveState());

    const b = make(new MemoryCharBackend(), new ManualClock(a.clock.now()));
    b.uart.loadState(state);
    expect(b.irq.level).toBe(true);
    expect(b.r(IIR)).toBe(FIFO_BITS | 0x0c);
    expect(b.r(SCR)).toBe(0x42);
    expect(b.r(RBR)).toBe(0x68);
    expect(b.r(IIR)).toBe(FIFO_BITS | 0x02);
    let rest = "";
    while (b.r(LSR) & 0x01) rest += String.fromCharCode(b.r(RBR));
    expect(rest).toBe("ello");
    b.w(LCR, 0x83);
    expect([b.r(DLL), b.r(DLM)]).toEqual([2, 0]);
    b.w(LCR, 0x03);
    b.w(THR, 0x21);
    expect(b.char.outputText).toBe("!");
    expect(b.r(IIR)).toBe(FIFO_BITS | 0x02);
    // The restored timeout runs on the new clock at the restored baud rate.
    b.char.push("x");
    b.clock.advance(fourChars - 10);
    expect(b.r(IIR)).toBe(IIR_FIFO_NONE);
    b.clock.advance(20);
    expect(b.r(IIR)).toBe(FIFO_BITS | 0x0c);
    expect(() => b.uart.loadState({ ...state, version: 3 } as never)).toThrow(UnsupportedError);
    expect(() => b.uart.loadState({ ...state, fifoEnabled: false })).toThrow(InvalidArgumentError);
    expect(() => b.uart.loadState({ ...state, triggerLevel: 3 })).toThrow(InvalidArgumentError);
  });
});

describe("Uart16550 under a misbehaving guest", () => {
  it("survives random accesses, counting the invalid ones, and still transmits", () => {
    const u = make();
    u.char.push("input");
    fuzzMmio(u.uart, { accesses: 20_000 });
    u.clock.advance(1e9);
    expect(u.counts.errors).toBeGreaterThan(0);
    u.w(LCR, 0x03);
    u.w(MCR, 0x00);
    u.char.takeOutput();
    u.w(THR, 0x21);
    expect(u.char.outputText).toBe("!");
  });
});
