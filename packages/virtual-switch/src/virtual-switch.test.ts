import { describe, expect, it } from "vitest";
import { VirtualSwitch } from "./virtual-switch.js";

const MAC = { a: [2, 0, 0, 0, 0, 0xa], b: [2, 0, 0, 0, 0, 0xb], c: [2, 0, 0, 0, 0, 0xc] };
const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const frame = (dst: number[], src: number[], tag: number) =>
  Uint8Array.from([...dst, ...src, 0x08, 0x00, tag]);

function plug(sw: VirtualSwitch) {
  const port = sw.connect();
  const got: number[] = [];
  port.onReceive((f) => got.push(f[14]));
  return { port, got };
}

describe("learning switch", () => {
  it("floods broadcasts and unknown destinations, then forwards learned unicast to one port", () => {
    const sw = new VirtualSwitch();
    const [a, b, c] = [plug(sw), plug(sw), plug(sw)];
    a.port.send(frame(BROADCAST, MAC.a, 1));
    expect([a.got, b.got, c.got]).toEqual([[], [1], [1]]);
    b.port.send(frame(MAC.a, MAC.b, 2)); // A is known: only A gets it
    expect([a.got, b.got, c.got]).toEqual([[2], [1], [1]]);
    a.port.send(frame(MAC.c, MAC.a, 3)); // C unknown yet: flooded
    expect([a.got, b.got, c.got]).toEqual([[2], [1, 3], [1, 3]]);
    a.port.send(frame(MAC.b, MAC.a, 4)); // B learned from frame 2
    expect([a.got, b.got, c.got]).toEqual([[2], [1, 3, 4], [1, 3]]);
    expect(sw.portOf("02:00:00:00:00:0b")).toBe(1);
    expect(sw.stats).toEqual({ unicast: 2, flooded: 2, runts: 0 });
  });

  it("ages out entries, forgets disconnected ports and drops runts", () => {
    const sw = new VirtualSwitch({ ageFrames: 2 });
    const [a, b, c] = [plug(sw), plug(sw), plug(sw)];
    a.port.send(frame(BROADCAST, MAC.a, 1));
    c.port.send(frame(BROADCAST, MAC.c, 2));
    c.port.send(frame(BROADCAST, MAC.c, 3));
    b.port.send(frame(MAC.a, MAC.b, 4)); // A's entry is 3 frames old: flooded
    expect(c.got).toEqual([1, 4]);
    a.port.disconnect();
    b.port.send(frame(MAC.c, MAC.b, 5));
    expect(sw.portOf("02:00:00:00:00:0a")).toBeUndefined();
    b.port.send(Uint8Array.of(1, 2, 3));
    expect(sw.stats.runts).toBe(1);
  });
});
