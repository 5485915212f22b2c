import { InvalidArgumentError, UnsupportedError } from "@backplane/core";
import { fuzzMmio, IrqRecorder } from "@backplane/testing";
import { describe, expect, it } from "vitest";
import {
  CONTEXT_BASE,
  CONTEXT_CLAIM,
  CONTEXT_STRIDE,
  ENABLE_BASE,
  ENABLE_STRIDE,
  PENDING_BASE,
  Plic,
} from "./index.js";

function make() {
  const outs = [new IrqRecorder(), new IrqRecorder(), new IrqRecorder(), new IrqRecorder()];
  const counts = { spurious: 0, errors: 0 };
  const plic = new Plic({
    contexts: outs,
    events: { onSpuriousClaim: () => counts.spurious++, onGuestError: () => counts.errors++ },
  });
  const prio = (src: number, p: number) => plic.write(4 * src, 4, p);
  const enable = (ctx: number, src: number) => {
    const off = ENABLE_BASE + ENABLE_STRIDE * ctx + 4 * (src >>> 5);
    plic.write(off, 4, plic.read(off, 4) | (1 << (src & 31)));
  };
  const claimReg = (ctx: number) => CONTEXT_BASE + CONTEXT_STRIDE * ctx + CONTEXT_CLAIM;
  const claim = (ctx: number) => plic.read(claimReg(ctx), 4);
  const complete = (ctx: number, src: number) => plic.write(claimReg(ctx), 4, src);
  const threshold = (ctx: number, t: number) => plic.write(CONTEXT_BASE + CONTEXT_STRIDE * ctx, 4, t);
  return { plic, outs, counts, prio, enable, claim, complete, threshold };
}

describe("Plic", () => {
  it("resets with everything masked: priority 0 sources never interrupt", () => {
    const { plic, outs, enable } = make();
    enable(1, 10);
    plic.irqLine(10).setLevel(true);
    expect(plic.read(PENDING_BASE, 4)).toBe(1 << 10);
    expect(outs[1].level).toBe(false);
  });

  it("signals the context that enabled a source above its threshold", () => {
    const { plic, outs, prio, enable, threshold } = make();
    prio(10, 1);
    enable(1, 10);
    plic.irqLine(10).setLevel(true);
    expect(outs.map((o) => o.level)).toEqual([false, true, false, false]);
    threshold(1, 1); // priority must exceed the threshold
    expect(outs[1].level).toBe(false);
    threshold(1, 0);
    expect(outs[1].level).toBe(true);
  });

  it("claims the highest priority, lowest ID first, and gates until completion", () => {
    const { plic, outs, prio, enable, claim, complete } = make();
    for (const src of [3, 40, 41]) enable(1, src);
    prio(3, 1);
    prio(40, 5);
    prio(41, 5);
    for (const src of [3, 40, 41]) plic.irqLine(src).setLevel(true);
    expect(plic.read(PENDING_BASE + 4, 4)).toBe((1 << 8) | (1 << 9));
    expect(claim(1)).toBe(40);
    expect(claim(1)).toBe(41);
    expect(claim(1)).toBe(3);
    expect(outs[1].level).toBe(false);
    expect(claim(1)).toBe(0);
    // Line 40 is still high: it pends again only after completion.
    expect(plic.read(PENDING_BASE + 4, 4)).toBe(0);
    complete(1, 40);
    expect(plic.read(PENDING_BASE + 4, 4)).toBe(1 << 8);
    expect(outs[1].level).toBe(true);
    // Line 41 dropped while in flight: completion leaves it idle.
    plic.irqLine(41).setLevel(false);
    complete(1, 41);
    expect(plic.read(PENDING_BASE + 4, 4)).toBe(1 << 8);
  });

  it("claims regardless of the threshold (spec: claims are not affected by it)", () => {
    const { plic, outs, prio, enable, threshold, claim } = make();
    prio(5, 2);
    enable(0, 5);
    threshold(0, 7);
    plic.irqLine(5).setLevel(true);
    expect(outs[0].level).toBe(false);
    expect(claim(0)).toBe(5);
  });

  it("keeps a request pending when the line falls before the claim (spec: no retraction)", () => {
    const { plic, outs, prio, enable, claim, complete } = make();
    prio(7, 1);
    enable(1, 7);
    plic.irqLine(7).setLevel(true);
    plic.irqLine(7).setLevel(false);
    expect(outs[1].level).toBe(true);
    expect(claim(1)).toBe(7);
    complete(1, 7);
    expect(plic.read(PENDING_BASE, 4)).toBe(0); // the line is low: no new request
    expect(outs[1].level).toBe(false);
  });

  it("masks priorities and thresholds to 3 bits, enables to real sources", () => {
    const { plic, prio } = make();
    prio(1, 0xff);
    expect(plic.read(4, 4)).toBe(7);
    plic.write(CONTEXT_BASE, 4, 9);
    expect(plic.read(CONTEXT_BASE, 4)).toBe(1);
    plic.write(ENABLE_BASE, 4, 0xffff_ffff);
    expect(plic.read(ENABLE_BASE, 4)).toBe(0xffff_fffe); // ID 0 is hardwired to 0
    plic.write(ENABLE_BASE + 8, 4, 0xffff_ffff);
    expect(plic.read(ENABLE_BASE + 8, 4)).toBe(0xffff_ffff); // IDs 64..95
    expect(plic.size).toBe(CONTEXT_BASE + 4 * CONTEXT_STRIDE);
  });

  it("ignores and counts bad completions, holes, read-only writes and odd widths", () => {
    const { plic, counts, prio, enable, claim, complete } = make();
    prio(9, 1);
    enable(1, 9);
    plic.irqLine(9).setLevel(true);
    expect(claim(1)).toBe(9);
    complete(0, 9); // not enabled for context 0
    complete(1, 500); // no such source
    complete(1, 8); // not in flight
    plic.write(PENDING_BASE, 4, 0xffff_ffff);
    expect(plic.read(PENDING_BASE + 0xc, 4)).toBe(0); // past the last pending word
    expect(plic.read(CONTEXT_BASE + 4 * CONTEXT_STRIDE, 4)).toBe(0); // context 4 does not exist
    plic.write(2, 4, 1);
    plic.read(4, 1);
    expect(counts.errors).toBe(8);
    expect(claim(1)).toBe(0);
    expect(counts.spurious).toBe(1);
    complete(1, 9);
    expect(claim(1)).toBe(9);
  });

  it("rejects bad wiring from the host", () => {
    const { plic } = make();
    expect(() => plic.irqLine(0)).toThrow(InvalidArgumentError);
    expect(() => plic.irqLine(96)).toThrow(InvalidArgumentError);
    expect(() => new Plic({ contexts: [] })).toThrow(InvalidArgumentError);
    expect(() => new Plic({ contexts: [new IrqRecorder()], maxPriority: 6 })).toThrow(InvalidArgumentError);
  });

  it("round-trips its state into a fresh instance", () => {
    const a = make();
    a.prio(10, 3);
    a.prio(11, 2);
    a.enable(1, 10);
    a.enable(1, 11);
    a.threshold(3, 5);
    a.plic.irqLine(10).setLevel(true);
    a.plic.irqLine(11).setLevel(true);
    expect(a.claim(1)).toBe(10);
    const state = structuredClone(a.plic.saveState());

    const b = make();
    b.plic.loadState(state);
    expect(b.outs[1].level).toBe(true);
    expect(b.plic.read(CONTEXT_BASE + 3 * CONTEXT_STRIDE, 4)).toBe(5);
    expect(b.claim(1)).toBe(11);
    expect(b.claim(1)).toBe(0);
    b.complete(1, 10); // in flight before the save
    expect(b.claim(1)).toBe(10);
    expect(() => b.plic.loadState({ ...state, version: 9 } as never)).toThrow(UnsupportedError);
    expect(() => b.plic.loadState({ ...state, threshold: [0] })).toThrow(InvalidArgumentError);
  });
});

describe("Plic under a misbehaving guest", () => {
  it("survives random accesses, counting the invalid ones, and still routes interrupts", () => {
    const { plic, outs, counts, prio, enable, threshold, claim, complete } = make();
    plic.irqLine(20).setLevel(true);
    fuzzMmio(plic, { accesses: 20_000 });
    expect(counts.errors).toBeGreaterThan(0);
    complete(1, 20); // in case the fuzzer claimed it
    prio(20, 3);
    enable(1, 20);
    threshold(1, 0);
    expect(outs[1].level).toBe(true);
    expect(claim(1)).toBe(20);
  });
});
