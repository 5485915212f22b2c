// Peer test: the same finisher writes on QEMU 7.2's virt board (recorded by
// @backplane/testing's peer/record-qemu.mjs, which keeps QEMU's exit status)
// and on this model.
import { replayPeerFixture } from "@backplane/testing";
import { expect, it } from "vitest";
import fail from "../test/fixtures/qemu-virt-finisher-fail.json";
import pass from "../test/fixtures/qemu-virt-finisher-pass.json";
import { Syscon } from "./index.js";

it.each([
  ["FINISHER_FAIL with code 7", fail],
  ["FINISHER_PASS", pass],
])("powers off with QEMU's exit status on %s", (_name, fixture) => {
  const exits: number[] = [];
  const syscon = new Syscon({ events: { onPowerOff: (code) => exits.push(code) } });
  replayPeerFixture(fixture as never, [{ base: 0x10_0000, device: syscon }]);
  expect(fixture.finished).toBe(false);
  expect(exits).toEqual([fixture.exitStatus]);
});
