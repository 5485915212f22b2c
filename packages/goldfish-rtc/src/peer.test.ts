// Peer test: the same goldfish RTC accesses on QEMU 7.2's virt board (recorded
// by @backplane/testing's peer/record-qemu.mjs) and on this model.
import type { MmioDevice, NarrowWidth } from "@backplane/core";
import { IrqRecorder, ManualClock, peerMismatches, replayPeerFixture } from "@backplane/testing";
import { expect, it } from "vitest";
import fixture from "../test/fixtures/qemu-virt-goldfish-rtc.json";
import { GoldfishRtc } from "./index.js";

it("answers QEMU's virt goldfish RTC script like QEMU", () => {
  const irq = new IrqRecorder();
  const rtc = new GoldfishRtc({
    wallClock: { epochNs: () => 1_767_225_600_000_000_000n },
    timers: new ManualClock(),
    irq,
  });
  // The script routes source 11 through QEMU's PLIC to MEIP and samples mip only
  // before the line first falls, so MEIP shows the RTC line; the PLIC writes go nowhere here.
  const plicWrites: MmioDevice = {
    size: 0x60_0000,
    widths: [4] as NarrowWidth[],
    read: () => 0,
    write: () => {},
  };
  // mip bit 7 is MTIP, set from reset by QEMU's CLINT; bit 11 is MEIP.
  const mip = () => 0x80n | (irq.level ? 0x800n : 0n);
  const rows = replayPeerFixture(
    fixture as never,
    [
      { base: 0x10_1000, device: rtc },
      { base: 0xc00_0000, device: plicWrites },
    ],
    mip,
  );
  expect(rows.length).toBe(24);
  expect(peerMismatches(rows)).toEqual([]);
});
