// Boots the cached Debian riscv64 guest (fetched when missing) and lets
// Linux judge it: the kernel binds the virt board's devices, /init loads the
// initramfs's modules, virtio-blk carries an ext4 disk that the host's
// e2fsprogs and qemu-img check afterwards. The VM is a parameter: each entry
// of `vms` runs the same tests with the same flags.
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DebianGuest, ensureDebianGuest } from "../src/guest/index.js";
import { pattern, tempDir } from "./support/files.js";
import { type BootOptions, bootLinux, debianVirtFlags, type LinuxConsole } from "./support/linux-console.js";

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const sh = (cwd: string, cmd: string, args: string[]) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const APP = fileURLToPath(new URL("..", import.meta.url));

/** VMs that boot the guest from the same QEMU-style flags: QEMU as the reference, then ours. */
const vms: Array<{ name: string; command: (flags: string[]) => BootOptions; available: boolean }> = [
  {
    name: "qemu-system-riscv64",
    command: (flags) => ({ command: "qemu-system-riscv64", args: flags }),
    available: has("qemu-system-riscv64"),
  },
  {
    name: "backplane run",
    command: (flags) => ({
      command: process.execPath,
      args: ["--conditions=source", "--import", "tsx", join(APP, "src/main.ts"), "run", ...flags],
      bootTimeoutMs: 900_000,
      commandTimeoutMs: 300_000,
    }),
    available: true,
  },
];

const md5 = (cwd: string, file: string) => sh(cwd, "md5sum", [file]).split(" ")[0];

describe.each(vms)("Debian riscv64 guest on $name", ({ command, available }) => {
  let guest: DebianGuest;
  let vm: LinuxConsole | undefined;

  beforeAll(async () => {
    if (available) guest = await ensureDebianGuest();
  }, 900_000);
  afterEach(() => vm?.kill());

  it.skipIf(!available)(
    "boots to a BusyBox shell with the board's devices bound and all modules loaded, then powers off",
    async () => {
      vm = await bootLinux(command(debianVirtFlags(guest)));
      const log = vm.bootLog;
      expect(log).toMatch(/riscv-plic: plic@c000000: mapped 96 interrupts/);
      expect(log).toMatch(
        /10000000\.serial: ttyS0 at MMIO 0x10000000 \(irq = \d+, base_baud = \d+\) is a 16550A/,
      );
      expect(log).toMatch(/goldfish_rtc 101000\.rtc: registered as rtc0/);
      expect(log).toContain("backplane initramfs: BusyBox shell on the console");
      expect(log).not.toContain("init: could not load");

      const release = guest.manifest.packages[0].package.slice("linux-image-".length);
      const uname = await vm.run("uname -a");
      expect(uname.status).toBe(0);
      expect(uname.output).toMatch(
        new RegExp(`^Linux \\S+ ${release.replaceAll("+", "\\+")} .* riscv64 GNU/Linux$`),
      );

      const cpuinfo = (await vm.run("cat /proc/cpuinfo")).output;
      expect(cpuinfo).toMatch(/^processor\s*: 0$/m);
      expect(cpuinfo).toMatch(/^hart\s*: 0$/m);
      expect(cpuinfo).toMatch(/^isa\s*: rv64imafdc/m);
      expect(cpuinfo).not.toMatch(/^processor\s*: 1$/m);

      // Two interrupts through the PLIC: the UART on source 10 (it has already
      // fired for the console) and the RTC on source 11.
      const interrupts = (await vm.run("cat /proc/interrupts")).output;
      const uart = /^\s*\d+:\s+(\d+)\s+SiFive PLIC\s+10\s+\w+\s+ttyS0$/m.exec(interrupts);
      expect(uart, interrupts).not.toBeNull();
      expect(Number(uart?.[1])).toBeGreaterThan(0);
      expect(interrupts).toMatch(/^\s*\d+:\s+\d+\s+SiFive PLIC\s+11\s+\w+\s+101000\.rtc$/m);

      const sum = await vm.run("md5sum /bin/busybox");
      expect(sum).toEqual({ output: `${md5(guest.dir, guest.busybox)}  /bin/busybox`, status: 0 });

      const modules = (await vm.run("cut -d' ' -f1 /proc/modules")).output.split("\n");
      expect(modules.sort()).toEqual([...guest.manifest.modules].sort());
      expect((await vm.run("dmesg | grep -c 'Unknown symbol'")).output).toBe("0");

      expect((await vm.run("ls /sys/bus/platform/drivers/syscon-poweroff")).output.split(/\s+/)).toContain(
        "poweroff",
      );
      expect(await vm.run("false")).toEqual({ output: "", status: 1 });
      expect(await vm.poweroff()).toBe(0);
    },
    1_200_000,
  );

  it.skipIf(!available || !has("mke2fs") || !has("debugfs") || !has("qemu-img"))(
    "mounts an ext4 qcow2 disk over virtio-blk, writes to it, reads virtio-rng and sees virtio-net",
    async () => {
      const dir = tempDir("boot-disk-");
      const content = join(dir, "content");
      sh(dir, "mkdir", [content]);
      writeFileSync(join(content, "known.bin"), pattern(300_000, 7));
      sh(dir, "mke2fs", ["-q", "-F", "-t", "ext4", "-d", content, "disk.raw", "16M"]);
      // Our own converter writes the qcow2; qemu-img judges it before and after the guest wrote to it.
      sh(APP, process.execPath, [
        ...["--conditions=source", "--import", "tsx", "src/main.ts"],
        ...["img", "convert", "-f", "raw", "-O", "qcow2", join(dir, "disk.raw"), join(dir, "disk.qcow2")],
      ]);
      expect(
        sh(dir, "qemu-img", ["compare", "-f", "raw", "-F", "qcow2", "disk.raw", "disk.qcow2"]),
      ).toContain("Images are identical");
      const mac = "52:54:00:12:34:56";
      const note = `written by the guest ${Date.now()}`;

      vm = await bootLinux(
        command(
          debianVirtFlags(guest, [
            ...[
              "-drive",
              `file=${join(dir, "disk.qcow2")},format=qcow2,if=none,id=d0`,
              "-device",
              "virtio-blk-device,drive=d0",
            ],
            ...["-device", "virtio-rng-device"],
            // A listening socket link: both VMs offer it, and the guest only needs the NIC to exist.
            ...["-netdev", `socket,id=n0,listen=127.0.0.1:${20000 + Math.floor(Math.random() * 20000)}`],
            ...["-device", `virtio-net-device,netdev=n0,mac=${mac}`],
          ]),
        ),
      );
      expect(vm.bootLog).toMatch(/virtio_blk virtio\d+: \[vda\] 32768 512-byte logical blocks/);
      expect((await vm.run("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt")).status).toBe(0);
      expect((await vm.run("md5sum /mnt/known.bin")).output).toBe(
        `${md5(content, "known.bin")}  /mnt/known.bin`,
      );
      expect((await vm.run(`echo '${note}' > /mnt/newfile && sync`)).status).toBe(0);
      expect((await vm.run("umount /mnt")).status).toBe(0);

      expect((await vm.run("cat /sys/class/misc/hw_random/rng_current")).output).toBe("virtio_rng.0");
      const random = async () =>
        (await vm?.run("dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1"))?.output;
      const [a, b] = [await random(), await random()];
      expect(a?.split(/\s+/).filter(Boolean)).toHaveLength(32);
      expect(a).not.toBe(b);

      expect((await vm.run("cat /sys/class/net/eth0/address")).output).toBe(mac);
      expect(await vm.poweroff()).toBe(0);

      expect(sh(dir, "qemu-img", ["check", "disk.qcow2"])).toContain("No errors were found on the image.");
      sh(dir, "qemu-img", ["convert", "-f", "qcow2", "-O", "raw", "disk.qcow2", "back.raw"]);
      expect(sh(dir, "debugfs", ["-R", "cat /newfile", "back.raw"])).toBe(`${note}\n`);
      expect(spawnSync("e2fsck", ["-fn", "back.raw"], { cwd: dir }).status).toBe(0);
    },
    1_200_000,
  );
});
