/**
 * The socket netdev backend, judged by QEMU 7.2: a QEMU process whose hub
 * joins two `-netdev socket,connect=` links forwards what one of our
 * backends sends to the other, so both speak QEMU's framing. Plus the
 * framing edge cases against a raw TCP peer.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { NetworkError } from "@backplane/core";
import { afterEach, describe, expect, it } from "vitest";
import { SOCKET_NET_MAX_FRAME, SocketNetBackend } from "./net-socket.js";

const QEMU = "qemu-system-riscv64";
const noQemu = spawnSync("sh", ["-c", `command -v ${QEMU}`]).status !== 0;

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

function nextFrame(backend: SocketNetBackend): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const off = backend.onReceive((frame) => {
      off();
      resolve(frame);
    });
  });
}

function connected(backend: SocketNetBackend, hooks: { connects: number }): Promise<void> {
  return new Promise((resolve) => {
    const poll = (): void =>
      backend.connected && hooks.connects > 0 ? resolve() : void setTimeout(poll, 10);
    poll();
  });
}

const frame = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

async function listening(): Promise<{
  backend: SocketNetBackend;
  hooks: { connects: number; reasons: (Error | undefined)[] };
}> {
  const hooks = { connects: 0, reasons: [] as (Error | undefined)[] };
  const backend = await SocketNetBackend.listen("127.0.0.1", 0, {
    onConnect: () => void hooks.connects++,
    onDisconnect: (reason) => void hooks.reasons.push(reason),
  });
  opened.push(backend);
  return { backend, hooks };
}

describe.skipIf(noQemu)(`against QEMU's socket netdev${noQemu ? " (skipped: no QEMU)" : ""}`, () => {
  it("QEMU's hub forwards our frames from one link to the other, both ways", async () => {
    const a = await listening();
    const b = await listening();
    const qemu: ChildProcess = spawn(
      QEMU,
      [
        ...[
          "-M",
          "virt",
          "-m",
          "64M",
          "-bios",
          "none",
          "-display",
          "none",
          "-serial",
          "null",
          "-monitor",
          "none",
        ],
        ...["-netdev", `socket,id=a,connect=127.0.0.1:${a.backend.port}`],
        ...["-netdev", `socket,id=b,connect=127.0.0.1:${b.backend.port}`],
        ...["-netdev", "hubport,id=ha,hubid=0,netdev=a", "-netdev", "hubport,id=hb,hubid=0,netdev=b"],
      ],
      { stdio: "ignore" },
    );
    opened.push({ close: () => qemu.kill() });
    await connected(a.backend, a.hooks);
    await connected(b.backend, b.hooks);
    const big = Uint8Array.from({ length: 1514 }, (_, i) => i & 0xff);
    const atB = nextFrame(b.backend);
    a.backend.send(big);
    expect(await atB).toEqual(big);
    const atA = nextFrame(a.backend);
    b.backend.send(frame(60, 0xab));
    expect(await atA).toEqual(frame(60, 0xab));
  }, 20_000);
});

describe("SocketNetBackend", () => {
  it("carries frames between a listening and a connecting backend", async () => {
    const server = await listening();
    const client = await SocketNetBackend.connect("127.0.0.1", server.backend.port as number);
    opened.push(client);
    await connected(server.backend, server.hooks);
    const atServer = nextFrame(server.backend);
    client.send(frame(64, 1));
    expect(await atServer).toEqual(frame(64, 1));
    const atClient = nextFrame(client);
    server.backend.send(frame(1500, 2));
    expect(await atClient).toEqual(frame(1500, 2));
  });

  it("reassembles frames split across and packed into TCP segments", async () => {
    const server = await listening();
    const raw: Socket = connect(server.backend.port as number, "127.0.0.1");
    opened.push({ close: () => raw.destroy() });
    await once(raw, "connect");
    const got: Uint8Array[] = [];
    server.backend.onReceive((f) => void got.push(f));
    const wire = Buffer.from([0, 0, 0, 3, 7, 8, 9, 0, 0, 0, 2, 5, 6, 0, 0, 0, 0]);
    raw.write(wire.subarray(0, 2));
    await new Promise((r) => setTimeout(r, 20));
    raw.write(wire.subarray(2, 6));
    await new Promise((r) => setTimeout(r, 20));
    raw.write(wire.subarray(6));
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([Uint8Array.from([7, 8, 9]), Uint8Array.from([5, 6]), new Uint8Array(0)]);
  });

  it("drops a peer that announces an oversized frame, then accepts the next one", async () => {
    const server = await listening();
    const raw = connect(server.backend.port as number, "127.0.0.1");
    await once(raw, "connect");
    const header = Buffer.alloc(4);
    header.writeUInt32BE(SOCKET_NET_MAX_FRAME + 1);
    raw.write(header);
    await once(raw, "close");
    await new Promise((r) => setTimeout(r, 20));
    expect(server.hooks.reasons[0]?.message).toContain(`${SOCKET_NET_MAX_FRAME + 1}-byte frame`);
    expect(server.backend.connected).toBe(false);
    const again = await SocketNetBackend.connect("127.0.0.1", server.backend.port as number);
    opened.push(again);
    await connected(server.backend, { connects: 1 });
    expect(server.hooks.connects).toBe(2);
  });

  it("drops frames while unconnected and fails to connect to a closed port with a NetworkError", async () => {
    const server = await listening();
    server.backend.send(frame(60, 0)); // nobody there: no throw
    const port = server.backend.port as number;
    await server.backend.close();
    await expect(SocketNetBackend.connect("127.0.0.1", port)).rejects.toThrow(NetworkError);
    await expect(SocketNetBackend.connect("127.0.0.1", port)).rejects.toThrow(/ECONNREFUSED/);
  });
});
