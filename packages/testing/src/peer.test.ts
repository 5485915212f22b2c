import { InvalidArgumentError, type MmioDevice, type NarrowWidth } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { type PeerFixture, peerMismatches, replayPeerFixture } from "./index.js";

/** A 16-byte register file that records writes, with no native 8-byte access. */
function registers(): MmioDevice & { bytes: Uint8Array } {
  const bytes = new Uint8Array(16);
  return {
    bytes,
    size: 16,
    widths: [1, 4] as NarrowWidth[],
    read: (o, w) => (w === 1 ? bytes[o] : new DataView(bytes.buffer).getUint32(o, true)),
    write: (o, w, v) => {
      if (w === 1) bytes[o] = v;
      else new DataView(bytes.buffer).setUint32(o, v, true);
    },
  };
}

describe("replayPeerFixture", () => {
  it("replays writes, pairs reads with the peer's answers and skips time-dependent ones", () => {
    const dev = registers();
    const fixture: PeerFixture = {
      description: "t",
      peer: "p",
      ops: [
        ["w", "0x1008", 8, "0x1122334455667788"],
        ["r", 0x1008, 4],
        ["r", "0x100c", 1],
        ["mip"],
        ["r", 0x1000, 1, "varies"],
      ],
      results: ["0x0000000055667788", "0x0000000000000045", "0x0000000000000080", "0x0000000000000001"],
    };
    const rows = replayPeerFixture(fixture, [{ base: 0x1000, device: dev }], () => 0x80n);
    expect([...dev.bytes.subarray(8)]).toEqual([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
    expect(rows.map((r) => r.ours)).toEqual([
      "0x0000000055667788",
      "0x0000000000000044",
      "0x0000000000000080",
      "0x0000000000000000",
    ]);
    expect(rows.map((r) => r.varies)).toEqual([false, false, false, true]);
    expect(peerMismatches(rows)).toEqual([
      { index: 1, peer: "0x0000000000000045", ours: "0x0000000000000044" },
    ]);
  });

  it("rejects scripts that touch unmapped addresses or lack results", () => {
    const devices = [{ base: 0, device: registers() }];
    const base = { description: "", peer: "", results: [] };
    expect(() => replayPeerFixture({ ...base, ops: [["r", 16, 1]] }, devices)).toThrow(InvalidArgumentError);
    expect(() => replayPeerFixture({ ...base, ops: [["r", 0, 1]] }, devices)).toThrow(InvalidArgumentError);
    expect(() => replayPeerFixture({ ...base, ops: [], results: ["0x0"] }, devices)).toThrow(
      InvalidArgumentError,
    );
  });
});
