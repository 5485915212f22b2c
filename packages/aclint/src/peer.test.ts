// Peer test: the same CLINT accesses and mip samples on QEMU 7.2's virt board
// (recorded by @backplane/testing's peer/record-qemu.mjs) and on this model.
import { IrqRecorder, ManualClock, peerMismatches, replayPeerFixture } from "@backplane/testing";
import { expect, it } from "vitest";
import fixture from "../test/fixtures/qemu-virt-clint.json";
import { Aclint } from "./index.js";

it("answers QEMU's virt CLINT script like QEMU, MSIP and MTIP included", () => {
  const hart = { msip: new IrqRecorder(), mtip: new IrqRecorder() };
  const clint = new Aclint({ timers: new ManualClock(), harts: [hart] });
  // mip bit 3 is MSIP, bit 7 MTIP (RISC-V privileged spec, section 3.1.9).
  const mip = () => (hart.msip.level ? 1n << 3n : 0n) | (hart.mtip.level ? 1n << 7n : 0n);
  const rows = replayPeerFixture(fixture as never, [{ base: 0x200_0000, device: clint }], mip);
  expect(rows.length).toBe(29);
  expect(peerMismatches(rows)).toEqual([]);
});
