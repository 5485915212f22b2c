import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SocketNetBackend } from "@backplane/host-node";
import { afterEach, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const cli = (args: string[]) =>
  spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args]);

/** Starts `backplane switch` on a free port and waits until it listens. */
async function startSwitch(): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    const child = cli(["switch", "-listen", `127.0.0.1:${port}`]);
    const ok = await new Promise<boolean>((resolve) => {
      let err = "";
      child.stderr?.on("data", (d) => {
        err += d;
        if (err.includes("listening")) resolve(true);
      });
      child.on("exit", () => resolve(false));
    });
    if (ok) return { child, port };
    if (attempt > 3) throw new Error("switch did not start");
  }
}

const frame = (dst: number, src: number, tag: number) =>
  Uint8Array.from([2, 0, 0, 0, 0, dst, 2, 0, 0, 0, 0, src, 8, 0, tag]);
const next = (link: SocketNetBackend) => new Promise<Uint8Array>((resolve) => link.onReceive(resolve));

describe("backplane switch", () => {
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill());

  it("floods unknown destinations, then forwards learned unicast to one port only", async () => {
    const s = await startSwitch();
    child = s.child;
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => SocketNetBackend.connect("127.0.0.1", s.port)));
    await new Promise((r) => setTimeout(r, 200)); // all three ports joined
    const gotB = next(b);
    const gotC = next(c);
    a.send(frame(0xb, 0xa, 1)); // B unknown: flooded to B and C
    expect((await gotB)[14]).toBe(1);
    expect((await gotC)[14]).toBe(1);
    const cFrames: number[] = [];
    c.onReceive((f) => cFrames.push(f[14]));
    const gotA = next(a);
    b.send(frame(0xa, 0xb, 2)); // A learned from frame 1: only A
    expect((await gotA)[14]).toBe(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(cFrames).toEqual([]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("rejects a bad address with one line and exit 1", () => {
    const r = spawnSync(
      process.execPath,
      ["--conditions=source", "--import", "tsx", MAIN, "switch", "-listen", "nowhere"],
      {
        encoding: "utf8",
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("backplane: switch: bad address 'nowhere' (want [HOST]:PORT)");
  });
});
