import { describe, expect, it } from "vitest";
import { SerialQueue } from "./serial-queue.js";

/** A task that logs its start and end, checks how many tasks overlap it, and settles after `ms`. */
function tracker() {
  const log: string[] = [];
  let running = 0;
  let exclusiveRunning = false;
  const task =
    (name: string, ms: number, opts: { fail?: boolean; exclusive?: boolean } = {}) =>
    () =>
      new Promise<string>((resolve, reject) => {
        expect(exclusiveRunning).toBe(false);
        if (opts.exclusive) {
          expect(running).toBe(0);
          exclusiveRunning = true;
        }
        running++;
        log.push(`start ${name}`);
        setTimeout(() => {
          running--;
          if (opts.exclusive) exclusiveRunning = false;
          log.push(`end ${name}`);
          if (opts.fail) reject(new Error(name));
          else resolve(name);
        }, ms);
      });
  return { log, task };
}

describe("SerialQueue", () => {
  it("runs exclusive tasks one at a time in call order, and a failure does not stop the queue", async () => {
    const q = new SerialQueue();
    const { log, task } = tracker();
    const a = q.run(task("a", 20, { exclusive: true }));
    const b = q.run(task("b", 1, { exclusive: true, fail: true }));
    const c = q.run(task("c", 5, { exclusive: true }));
    await expect(a).resolves.toBe("a");
    await expect(b).rejects.toThrow("b");
    await expect(c).resolves.toBe("c");
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("runs consecutive shared tasks together, never beside an exclusive one, in queue order", async () => {
    const q = new SerialQueue();
    const { log, task } = tracker();
    const all = [
      q.runShared(task("r1", 20)),
      q.runShared(task("r2", 5, { fail: true })),
      q.run(task("w1", 5, { exclusive: true })),
      q.runShared(task("r3", 5)),
      q.runShared(task("r4", 10)),
      q.run(task("w2", 1, { exclusive: true })),
    ];
    await Promise.allSettled(all);
    expect(log).toEqual([
      "start r1",
      "start r2",
      "end r2",
      "end r1",
      "start w1",
      "end w1",
      "start r3",
      "start r4",
      "end r3",
      "end r4",
      "start w2",
      "end w2",
    ]);
    await expect(all[1]).rejects.toThrow("r2");
  });

  it("a shared task queued after its group drained starts at once, and a later exclusive task waits for it", async () => {
    const q = new SerialQueue();
    const { log, task } = tracker();
    await q.runShared(task("r1", 1));
    const r2 = q.runShared(task("r2", 10));
    const w = q.run(task("w", 1, { exclusive: true }));
    await Promise.all([r2, w]);
    expect(log).toEqual(["start r1", "end r1", "start r2", "end r2", "start w", "end w"]);
  });
});
