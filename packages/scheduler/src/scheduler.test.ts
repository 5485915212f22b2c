import { InvalidArgumentError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { HostClock, VirtualClock } from "./clock.js";
import { RunLoop, type RunnableHart, type SliceResult } from "./run-loop.js";
import { TimerQueue } from "./timer-queue.js";

/** A hart that retires one instruction at a time, calls `onRetire` after each and honours endSlice(). */
class FakeHart implements RunnableHart {
  waiting = false;
  retired = 0;
  private ending = false;
  onRetire: (count: number) => void = () => {};
  run(budget: number): SliceResult {
    let n = 0;
    this.ending = false;
    while (n < budget && !this.waiting && !this.ending) {
      n++;
      this.retired++;
      this.onRetire(this.retired);
    }
    return { executed: n, waiting: this.waiting };
  }
  endSlice(): void {
    this.ending = true;
  }
}

describe("TimerQueue", () => {
  it("fires due timers in deadline order, ties in the order they were set", () => {
    const clock = new VirtualClock();
    const q = new TimerQueue(clock);
    const fired: string[] = [];
    q.at(30, () => fired.push("c"));
    q.at(10, () => fired.push("a1"));
    q.at(20, () => fired.push("b"));
    q.at(10, () => fired.push("a2"));
    q.at(40, () => fired.push("late"));
    expect(q.nextDeadline()).toBe(10);
    clock.advance(30);
    expect(q.runDue()).toBe(4);
    expect(fired).toEqual(["a1", "a2", "b", "c"]);
    expect(q.size).toBe(1);
    expect(q.nextDeadline()).toBe(40);
  });

  it("cancels timers (twice is harmless) and runs timers set by callbacks when due", () => {
    const clock = new VirtualClock();
    const q = new TimerQueue(clock);
    const fired: number[] = [];
    const h = q.at(5, () => fired.push(5));
    h.cancel();
    h.cancel();
    q.at(6, () => {
      fired.push(6);
      q.at(0, () => fired.push(0));
      q.at(100, () => fired.push(100));
    });
    expect(q.size).toBe(1);
    clock.advance(10);
    q.runDue();
    expect(fired).toEqual([6, 0]);
    expect(q.nextDeadline()).toBe(100);
    expect(q.now()).toBe(10);
  });
});

describe("clocks", () => {
  it("virtual time only moves forward", () => {
    const c = new VirtualClock();
    c.advance(5);
    c.advanceTo(3);
    expect(c.now()).toBe(5);
    c.advanceTo(9);
    expect(c.now()).toBe(9);
    expect(() => c.advance(-1)).toThrow(InvalidArgumentError);
  });

  it("host time starts at zero and never runs backwards", () => {
    let t = 1_000_000;
    const c = new HostClock(() => t);
    expect(c.now()).toBe(0);
    t += 500;
    expect(c.now()).toBe(500);
    t -= 200;
    expect(c.now()).toBe(500);
  });
});

describe("RunLoop with virtual time", () => {
  it("fires a timer exactly at the instruction where its deadline falls", () => {
    const clock = new VirtualClock();
    const timers = new TimerQueue(clock);
    const hart = new FakeHart();
    const loop = new RunLoop({ hart, timers, clock, nsPerInstruction: 10, sliceInstructions: 64 });
    const seen: number[] = [];
    timers.at(1000, () => seen.push(hart.retired));
    timers.at(2505, () => seen.push(hart.retired));
    expect(loop.runSync(300)).toBe("limit");
    expect(seen).toEqual([100, 251]);
    expect(loop.retired).toBe(300);
    expect(clock.now()).toBe(3000);
  });

  it("skips to the next deadline while the hart waits in WFI", () => {
    const clock = new VirtualClock();
    const timers = new TimerQueue(clock);
    const hart = new FakeHart();
    const loop = new RunLoop({ hart, timers, clock, nsPerInstruction: 10 });
    let wokeAt = -1;
    hart.onRetire = (n) => {
      if (n === 50) hart.waiting = true;
      if (n === 60) loop.stop();
    };
    timers.at(1_000_000, () => {
      wokeAt = clock.now();
      hart.waiting = false;
    });
    expect(loop.runSync()).toBe("stopped");
    expect(wokeAt).toBe(1_000_000);
    expect(hart.retired).toBe(60);
    expect(clock.now()).toBe(1_000_000 + 10 * 10);
  });

  it("reports idle when the hart waits and no timer is pending", () => {
    const clock = new VirtualClock();
    const hart = new FakeHart();
    hart.onRetire = (n) => {
      if (n === 7) hart.waiting = true;
    };
    const loop = new RunLoop({ hart, timers: new TimerQueue(clock), clock });
    expect(loop.runSync()).toBe("idle");
    expect(loop.retired).toBe(7);
  });

  it("is deterministic: the same program sees the same timer instants", () => {
    const trace = (): number[] => {
      const clock = new VirtualClock();
      const timers = new TimerQueue(clock);
      const hart = new FakeHart();
      const out: number[] = [];
      const tick = (): void => {
        out.push(hart.retired);
        if (out.length < 20) timers.at(clock.now() + 777, tick);
      };
      timers.at(777, tick);
      new RunLoop({ hart, timers, clock, nsPerInstruction: 3, sliceInstructions: 1000 }).runSync(6000);
      return out;
    };
    const a = trace();
    expect(a).toHaveLength(20);
    expect(a).toEqual(trace());
    expect(a[0]).toBe(259);
  });

  it("rejects bad options", async () => {
    const clock = new VirtualClock();
    const args = { hart: new FakeHart(), timers: new TimerQueue(clock), clock };
    expect(() => new RunLoop({ ...args, nsPerInstruction: 0 })).toThrow(InvalidArgumentError);
    expect(() => new RunLoop({ ...args, sliceInstructions: 0 })).toThrow(InvalidArgumentError);
    await expect(new RunLoop(args).run()).rejects.toThrow(InvalidArgumentError);
  });
});

describe("RunLoop.run (asynchronous)", () => {
  it("with host time, sleeps until the next deadline while the hart waits", async () => {
    let hostNs = 0;
    const clock = new HostClock(() => hostNs);
    const timers = new TimerQueue(clock);
    const hart = new FakeHart();
    const sleeps: number[] = [];
    const loop = new RunLoop({
      hart,
      timers,
      clock,
      host: {
        sleep: async (ms) => {
          sleeps.push(ms);
          hostNs += ms * 1e6;
        },
        yield: async () => {},
      },
    });
    hart.onRetire = (n) => {
      if (n === 10) hart.waiting = true;
      if (n === 11) loop.stop();
    };
    timers.at(5_000_000, () => {
      hart.waiting = false;
    });
    await expect(loop.run()).resolves.toBe("stopped");
    expect(sleeps).toEqual([5]);
    expect(hart.retired).toBe(11);
  });

  it("waits for wake() when the hart waits with nothing scheduled", async () => {
    const clock = new VirtualClock();
    const hart = new FakeHart();
    const loop = new RunLoop({
      hart,
      timers: new TimerQueue(clock),
      clock,
      host: { sleep: async () => {}, yield: async () => {} },
    });
    hart.onRetire = (n) => {
      if (n === 3) hart.waiting = true;
      if (n === 5) loop.stop();
    };
    const done = loop.run();
    await new Promise((r) => setTimeout(r, 5));
    expect(hart.retired).toBe(3);
    // host input arrives: a device raises an interrupt, the hart leaves WFI
    hart.waiting = false;
    loop.wake();
    await expect(done).resolves.toBe("stopped");
    expect(hart.retired).toBe(5);
  });

  it("yields to the host every few milliseconds of guest time", async () => {
    const clock = new VirtualClock();
    const hart = new FakeHart();
    const yieldedAt: number[] = [];
    const loop = new RunLoop({
      hart,
      timers: new TimerQueue(clock),
      clock,
      nsPerInstruction: 10,
      sliceInstructions: 100_000,
      host: { sleep: async () => {}, yield: async () => void yieldedAt.push(clock.now()) },
    });
    hart.onRetire = (n) => {
      if (n === 2_000_000) loop.stop();
    };
    await loop.run();
    expect(yieldedAt).toEqual([4_000_000, 8_000_000, 12_000_000, 16_000_000, 20_000_000]);
  });
});
