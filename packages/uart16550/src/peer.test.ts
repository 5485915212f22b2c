// Peer test: the same register accesses on QEMU 7.2's virt UART (recorded by
// @backplane/testing's peer/record-qemu.mjs into test/fixtures) and on this model.
import {
  IrqRecorder,
  ManualClock,
  MemoryCharBackend,
  peerMismatches,
  replayPeerFixture,
} from "@backplane/testing";
import { expect, it } from "vitest";
import fixture from "../test/fixtures/qemu-virt-uart.json";
import { Uart16550 } from "./index.js";

it("answers QEMU's virt UART register script like QEMU, except where the datasheet differs", () => {
  const uart = new Uart16550({
    char: new MemoryCharBackend(),
    irq: new IrqRecorder(),
    timers: new ManualClock(),
  });
  const rows = replayPeerFixture(fixture as never, [{ base: 0x1000_0000, device: uart }]);
  expect(peerMismatches(rows)).toEqual([
    // MCR after reset: QEMU sets OUT2 (a PC habit); the PC16550D resets MCR to 0.
    { index: 3, peer: "0x0000000000000008", ours: "0x0000000000000000" },
    // MSR in loopback: the datasheet keeps the delta bits (and MODEM status
    // interrupts) working on the looped-back MCR outputs; QEMU reports none.
    // MCR 0x1a: DSR falls (DDSR).
    { index: 22, peer: "0x0000000000000090", ours: "0x0000000000000092" },
    // MCR 0x15: CTS and DCD fall, DSR rises, RI rises (DCTS, DDSR, DDCD; no TERI on a rising edge).
    { index: 23, peer: "0x0000000000000060", ours: "0x000000000000006b" },
    // MCR 0x10: DSR falls, RI falls (DDSR, TERI).
    { index: 24, peer: "0x0000000000000000", ours: "0x0000000000000006" },
    // Leaving loopback reconnects the idle inputs (CTS, DSR, DCD): deltas again.
    { index: 64, peer: "0x00000000000000b0", ours: "0x00000000000000bb" },
  ]);
});
