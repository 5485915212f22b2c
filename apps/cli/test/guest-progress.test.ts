import { describe, expect, it } from "vitest";
import { progressReporter } from "../src/guest/progress.js";

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream };
}

const url = "http://mirror.invalid/pool/x.deb";
const MiB = 1 << 20;

describe("guest download progress", () => {
  it("draws a bar on a terminal and ends it before the next status line", () => {
    const { writes, stream } = fakeStream(true);
    const p = progressReporter(stream);
    p.onProgress({ url, received: MiB, total: 4 * MiB, done: false });
    p.onProgress({ url, received: 2 * MiB, total: 4 * MiB, done: false }); // within 100 ms: not redrawn
    p.line("next");
    expect(writes).toEqual([
      `\r\x1b[Kx.deb [${"#".repeat(8)}${" ".repeat(22)}] 25% 1.0/4.0 MiB`,
      "\n",
      "next\n",
    ]);
  });

  it("always draws the finished state and closes the line", () => {
    const { writes, stream } = fakeStream(true);
    const p = progressReporter(stream);
    p.onProgress({ url, received: 4 * MiB, total: 4 * MiB, done: true });
    p.close();
    expect(writes).toEqual([`\r\x1b[Kx.deb [${"#".repeat(30)}] 100% 4.0/4.0 MiB`, "\n"]);
  });

  it("prints one plain line per finished download when not a terminal", () => {
    const { writes, stream } = fakeStream(false);
    const p = progressReporter(stream);
    p.onProgress({ url, received: 10, total: undefined, done: false });
    p.onProgress({ url, received: 20, total: undefined, done: true });
    p.close();
    expect(writes).toEqual([`downloaded ${url} (20 bytes)\n`]);
  });
});
