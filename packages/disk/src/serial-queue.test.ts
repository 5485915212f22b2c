import { describe, expect, it } from "vitest";
import { SerialQueue } from "./serial-queue.js";

describe("SerialQueue", () => {
  it("runs tasks one at a time in call order, and a failure does not stop the queue", async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const task =
      (name: string, ms: number, fail = false) =>
      () =>
        new Promise<string>((resolve, reject) => {
          running++;
          expect(running).toBe(1);
          log.push(`start ${name}`);
          setTimeout(() => {
            running--;
            log.push(`end ${name}`);
            if (fail) reject(new Error(name));
            else resolve(name);
          }, ms);
        });
    const a = q.run(task("a", 20));
    const b = q.run(task("b", 1, true));
    const c = q.run(task("c", 5));
    await expect(a).resolves.toBe("a");
    await expect(b).rejects.toThrow("b");
    await expect(c).resolves.toBe("c");
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });
});
