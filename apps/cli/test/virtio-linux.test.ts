// Linux judges `backplane run`'s virtio devices: the cached Debian riscv64
// guest boots with an ext4 qcow2 disk (virtio-blk), virtio-rng and a
// virtio-net NIC cabled over `-netdev socket` to a QEMU VM booted from the
// same guest. The guest mounts and writes the disk (qemu-img check and
// e2fsprogs judge the image afterwards), reads /dev/hwrng, and pings the QEMU
// VM. A Backplane boot takes minutes, so this runs with BACKPLANE_LONG=1.
// It passed (about 4.5 minutes) with the machine's run loop also waking a
// hart that waits in WFI for its Sstc timer (stimecmp); without that, Linux
// stalls in idle until the next console input or device interrupt, and this
// test times out.
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DebianGuest, ensureDebianGuest } from "../src/guest/index.js";
import { pattern, tempDir } from "./support/files.js";
import { bootLinux, debianVirtFlags, type LinuxConsole } from "./support/linux-console.js";

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const sh = (cwd: string, cmd: string, args: string[]) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const APP = fileURLToPath(new URL("..", import.meta.url));
const md5 = (cwd: string, file: string) => sh(cwd, "md5sum", [file]).split(" ")[0];

const ready =
  process.env.BACKPLANE_LONG === "1" &&
  ["qemu-system-riscv64", "qemu-img", "mke2fs", "debugfs", "e2fsck"].every(has);

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

describe.skipIf(!ready)(
  `virtio devices of backplane run, driven by Linux${ready ? "" : " (skipped: needs BACKPLANE_LONG=1, QEMU, qemu-img, e2fsprogs)"}`,
  () => {
    let guest: DebianGuest;
    const vms: LinuxConsole[] = [];
    beforeAll(async () => {
      guest = await ensureDebianGuest();
    }, 900_000);
    afterEach(() => {
      for (const vm of vms.splice(0)) vm.kill();
    });

    it("mounts ext4 from qcow2, reads /dev/hwrng and pings a QEMU VM over a socket netdev", async () => {
      const dir = tempDir("virtio-linux-");
      const content = join(dir, "content");
      sh(dir, "mkdir", [content]);
      writeFileSync(join(content, "known.bin"), pattern(200_000, 11));
      sh(dir, "mke2fs", ["-q", "-F", "-t", "ext4", "-d", content, "disk.raw", "16M"]);
      sh(dir, "qemu-img", ["convert", "-f", "raw", "-O", "qcow2", "disk.raw", "disk.qcow2"]);
      const port = await freePort();
      const note = `written through backplane virtio-blk ${Date.now()}`;

      const ours = await bootLinux({
        command: process.execPath,
        args: [
          ...["--conditions=source", "--import", "tsx", "src/main.ts", "run"],
          ...debianVirtFlags(guest, [
            ...["-drive", `file=${join(dir, "disk.qcow2")},format=qcow2,if=none,id=d0`],
            ...["-device", "virtio-blk-device,drive=d0", "-device", "virtio-rng-device"],
            ...["-netdev", `socket,id=n0,listen=:${port}`],
            ...["-device", "virtio-net-device,netdev=n0,mac=52:54:00:00:00:01"],
          ]),
        ],
        cwd: APP,
        bootTimeoutMs: 900_000,
        commandTimeoutMs: 300_000,
      });
      vms.push(ours);
      expect(ours.bootLog).toMatch(/virtio_blk virtio\d+: \[vda\] 32768 512-byte logical blocks/);

      expect((await ours.run("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt")).status).toBe(0);
      expect((await ours.run("md5sum /mnt/known.bin")).output).toBe(
        `${md5(content, "known.bin")}  /mnt/known.bin`,
      );
      expect((await ours.run(`echo '${note}' > /mnt/newfile && sync`)).status).toBe(0);
      expect((await ours.run("umount /mnt")).status).toBe(0);

      expect((await ours.run("cat /sys/class/misc/hw_random/rng_current")).output).toBe("virtio_rng.0");
      const random = (await ours.run("dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1")).output;
      expect(random.split(/\s+/).filter(Boolean)).toHaveLength(32);

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

      expect(await peer.poweroff()).toBe(0);
      expect(await ours.poweroff()).toBe(0);
      expect(sh(dir, "qemu-img", ["check", "disk.qcow2"])).toContain("No errors were found on the image.");
      sh(dir, "qemu-img", ["convert", "-f", "qcow2", "-O", "raw", "disk.qcow2", "back.raw"]);
      expect(sh(dir, "debugfs", ["-R", "cat /newfile", "back.raw"])).toBe(`${note}\n`);
      expect(spawnSync("e2fsck", ["-fn", "back.raw"], { cwd: dir }).status).toBe(0);
    }, 1_800_000);
  },
);
