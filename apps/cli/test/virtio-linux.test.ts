// Linux judges `backplane run`'s virtio-net across real links: (1) the cached
// Debian riscv64 guest boots on Backplane with a NIC on `-netdev socket`
// (QEMU's stream framing), a QEMU VM booted from the same guest connects to
// it, and the two guests ping each other — QEMU's own virtio-net and Linux on
// the far end judge what our NIC puts on the wire; (2) two Backplane VMs join
// one `backplane switch` (a learning VirtualSwitch) and ping each other. (The
// disk and entropy devices are driven by Linux in boot-linux.test.ts.)
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DebianGuest, ensureDebianGuest } from "../src/guest/index.js";
import { bootLinux, debianVirtFlags, type LinuxConsole } from "./support/linux-console.js";

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const APP = fileURLToPath(new URL("..", import.meta.url));

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

describe.skipIf(!has("qemu-system-riscv64"))("virtio-net of backplane run, driven by Linux", () => {
  let guest: DebianGuest;
  const vms: LinuxConsole[] = [];
  beforeAll(async () => {
    guest = await ensureDebianGuest();
  }, 900_000);
  afterEach(() => {
    for (const vm of vms.splice(0)) vm.kill();
  });

  const backplane = (netdev: string, mac: string) =>
    bootLinux({
      command: process.execPath,
      args: [
        ...["--conditions=source", "--import", "tsx", "src/main.ts", "run"],
        ...debianVirtFlags(guest, ["-netdev", netdev, "-device", `virtio-net-device,netdev=n0,mac=${mac}`]),
      ],
      cwd: APP,
      bootTimeoutMs: 1_200_000,
      commandTimeoutMs: 300_000,
    });

  it("pings a QEMU VM cabled to it over a socket netdev", async () => {
    const port = await freePort();
    const ours = await backplane(`socket,id=n0,listen=127.0.0.1:${port}`, "52:54:00:00:00:01");
    vms.push(ours);
    const peer = await bootLinux({
      command: "qemu-system-riscv64",
      args: debianVirtFlags(guest, [
        ...["-netdev", `socket,id=n0,connect=127.0.0.1:${port}`],
        ...["-device", "virtio-net-device,netdev=n0,mac=52:54:00:00:00:02"],
      ]),
    });
    vms.push(peer);
    expect((await peer.run("ifconfig eth0 10.0.2.2 netmask 255.255.255.0 up")).status).toBe(0);
    expect((await ours.run("ifconfig eth0 10.0.2.1 netmask 255.255.255.0 up")).status).toBe(0);
    const ping = await ours.run("ping -c 3 -W 10 10.0.2.2");
    expect(ping.output).toMatch(/3 packets transmitted, 3 (packets )?received/);
    expect(ping.status).toBe(0);
    const back = await peer.run("ping -c 2 -W 10 10.0.2.1");
    expect(back.output).toMatch(/2 packets transmitted, 2 (packets )?received/);
    expect(await peer.poweroff()).toBe(0);
    expect(await ours.poweroff()).toBe(0);
  }, 1_800_000);

  it("two Backplane VMs on one backplane switch ping each other", async () => {
    const port = await freePort();
    const sw: ChildProcess = spawn(
      process.execPath,
      [
        ...["--conditions=source", "--import", "tsx", "src/main.ts"],
        ...["switch", "-listen", `127.0.0.1:${port}`],
      ],
      { cwd: APP },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        sw.stderr?.on("data", (d) => String(d).includes("listening") && resolve());
        sw.on("exit", (code) => reject(new Error(`switch exited ${code}`)));
      });
      const [a, b] = await Promise.all([
        backplane(`socket,id=n0,connect=127.0.0.1:${port}`, "52:54:00:00:00:0a"),
        backplane(`socket,id=n0,connect=127.0.0.1:${port}`, "52:54:00:00:00:0b"),
      ]);
      vms.push(a, b);
      expect((await a.run("ifconfig eth0 10.0.3.1 netmask 255.255.255.0 up")).status).toBe(0);
      expect((await b.run("ifconfig eth0 10.0.3.2 netmask 255.255.255.0 up")).status).toBe(0);
      const ping = await a.run("ping -c 3 -W 20 10.0.3.2");
      expect(ping.output).toMatch(/3 packets transmitted, 3 (packets )?received/);
      expect(await a.poweroff()).toBe(0);
      expect(await b.poweroff()).toBe(0);
    } finally {
      sw.kill();
    }
  }, 2_400_000);
});
