import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { StdioCharBackend } from "./stdio.js";

/** A fake terminal: a readable stream with isTTY and setRawMode. */
function fakeTty(isTTY: boolean) {
  const input = new PassThrough() as unknown as NodeJS.ReadStream & { rawModes: boolean[] };
  input.rawModes = [];
  Object.assign(input, { isTTY, setRawMode: (on: boolean) => input.rawModes.push(on) });
  const written: string[] = [];
  const output = {
    write: (d: Uint8Array | string) => written.push(Buffer.from(d).toString("latin1")),
  } as unknown as NodeJS.WriteStream;
  return { input, output, written };
}

const flush = () => new Promise((r) => setImmediate(r));

describe("StdioCharBackend", () => {
  it("queues input until read and notifies listeners", async () => {
    const { input, output, written } = fakeTty(false);
    const backend = new StdioCharBackend({ input, output });
    let notified = 0;
    backend.onReadable(() => notified++);
    (input as unknown as PassThrough).write(Buffer.from("ab\x01x"));
    await flush();
    expect(notified).toBe(1);
    const buf = new Uint8Array(3);
    expect(backend.read(buf)).toBe(3);
    expect(Buffer.from(buf).toString("latin1")).toBe("ab\x01");
    expect(backend.read(buf)).toBe(1);
    backend.write(Buffer.from("out"));
    expect(written).toEqual(["out"]);
    backend.close();
  });

  it("on a terminal: raw mode, Ctrl-A x quits, Ctrl-A h helps, Ctrl-A Ctrl-A sends Ctrl-A", async () => {
    const { input, output, written } = fakeTty(true);
    let quits = 0;
    const backend = new StdioCharBackend({ input, output, onQuit: () => quits++ });
    expect(input.rawModes).toEqual([true]);
    (input as unknown as PassThrough).write(Buffer.from("a\x01h\x01\x01b\x01x"));
    await flush();
    const buf = new Uint8Array(8);
    const n = backend.read(buf);
    expect(Buffer.from(buf.subarray(0, n)).toString("latin1")).toBe("a\x01b");
    expect(quits).toBe(1);
    expect(written.join("")).toContain("C-a x    exit emulator");
    backend.close();
    expect(input.rawModes).toEqual([true, false]);
  });

  it("pauses stdin at the high-water mark and resumes once drained", async () => {
    const { input, output } = fakeTty(false);
    const backend = new StdioCharBackend({ input, output, highWaterMark: 4 });
    (input as unknown as PassThrough).write(Buffer.from("123456"));
    await flush();
    expect(input.isPaused()).toBe(true);
    backend.read(new Uint8Array(6));
    expect(input.isPaused()).toBe(false);
    backend.close();
  });
});
