// Peer test: the same PLIC accesses and mip samples on QEMU 7.2's virt board
// (recorded by @backplane/testing's peer/record-qemu.mjs) and on this model.
import type { IrqLine, MmioDevice, NarrowWidth } from "@backplane/core";
import { IrqRecorder, peerMismatches, replayPeerFixture } from "@backplane/testing";
import { expect, it } from "vitest";
import fixture from "../test/fixtures/qemu-virt-plic.json";
import { Plic } from "./index.js";

/**
 * A register window whose interrupt line follows one bit of one register:
 * how the script drives QEMU's UART (register 1, IER.ETBEI, with THR empty)
 * and goldfish RTC (IRQ_ENABLED at 0x10, after an alarm in the past).
 */
function lineFollowsBit(size: number, offset: number, bit: number, line: IrqLine): MmioDevice {
  return {
    size,
    widths: [1, 4] as NarrowWidth[],
    read: () => 0,
    write: (o, _w, v) => {
      if (o === offset) line.setLevel((v & bit) !== 0);
    },
  };
}

it("answers QEMU's virt PLIC script like QEMU, except where QEMU departs from the spec", () => {
  const meip = new IrqRecorder();
  const seip = new IrqRecorder();
  const plic = new Plic({ contexts: [meip, seip] });
  const devices = [
    { base: 0xc00_0000, device: plic },
    { base: 0x1000_0000, device: lineFollowsBit(0x100, 1, 0x02, plic.irqLine(10)) },
    { base: 0x10_1000, device: lineFollowsBit(0x1000, 0x10, 0x01, plic.irqLine(11)) },
  ];
  // mip: MTIP (bit 7) is set from reset by QEMU's CLINT; SEIP is bit 9, MEIP bit 11.
  const mip = () => 0x80n | (seip.level ? 0x200n : 0n) | (meip.level ? 0x800n : 0n);
  const rows = replayPeerFixture(fixture as never, devices, mip);
  expect(peerMismatches(rows)).toEqual([
    // Enable bit 0 (the non-existent source 0) is hardwired to 0 in the spec; QEMU keeps it.
    { index: 6, peer: "0x00000000ffffffff", ours: "0x00000000fffffffe" },
    // QEMU does not re-evaluate its outputs on an enable write (SEIP appears at the next threshold write).
    { index: 13, peer: "0x0000000000000080", ours: "0x0000000000000280" },
    // After completion of a still-asserted level source the spec's gateway forwards a new
    // request; QEMU waits for the device to re-assert its line.
    { index: 21, peer: "0x0000000000000000", ours: "0x0000000000000400" },
    { index: 22, peer: "0x0000000000000080", ours: "0x0000000000000a80" },
    // The spec's claim ignores the threshold; QEMU's returns 0 above it.
    { index: 42, peer: "0x0000000000000000", ours: "0x000000000000000a" },
  ]);
});
