/**
 * The virtio flags of `backplane run`: parsing and cross-referencing (good
 * and bad flags, one error line and status 1 from the command), and disks
 * opened exactly as the command opens them, plugged into the virt machine and
 * driven through the slot's registers by the mock driver. qemu-img judges the
 * images afterwards (`check`, `compare` against the expected bytes), and
 * QEMU's socket-netdev framing carries the NIC's frames.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, writeU32LE, writeU64LE } from "@backplane/core";
import { SocketNetBackend } from "@backplane/host-node";
import { VirtMachine } from "@backplane/machine-riscv-virt";
import { AddressSpaceGuestMemory } from "@backplane/memory";
import * as R from "@backplane/virtio";
import { MockVirtioDriver } from "@backplane/virtio/testing";
import {
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VirtioBlk,
} from "@backplane/virtio-blk";
import { VirtioNet } from "@backplane/virtio-net";
import { VirtioRng } from "@backplane/virtio-rng";
import { describe, expect, it } from "vitest";
import { parseArgs } from "./args.js";
import { openVirtio } from "./virtio.js";

const MAIN = join(import.meta.dirname, "../main.ts");
const QEMU_IMG = "qemu-img";
const noQemuImg = spawnSync("sh", ["-c", `command -v ${QEMU_IMG}`]).status !== 0;
const MiB = 1 << 20;

const plan = (...argv: string[]) => parseArgs(argv).virtio;
const qemuImg = (...args: string[]) => spawnSync(QEMU_IMG, args, { encoding: "utf8" });

describe("virtio flags", () => {
  it("orders devices as given, resolves ids in any order and numbers default MACs like QEMU", () => {
    const p = plan(
      ...["-device", "virtio-net-device"],
      ...["-device", "virtio-blk-device,drive=d1,serial=disk,,one"],
      ...["-drive", "file=a.qcow2,format=qcow2,if=virtio,readonly"],
      ...["-device", "virtio-rng-device"],
      ...["-netdev", "socket,id=n0,listen=:5555"],
      ...["-device", "virtio-net-device,netdev=n0,mac=02:00:00:00:00:01"],
      ...["-device", "virtio-net-device,netdev=n0"],
      ...["-drive", "file=b.img,if=none,id=d1,snapshot=on"],
    );
    expect(p.devices.map((d) => d.model)).toEqual([
      "virtio-net-device",
      "virtio-blk-device",
      "virtio-blk-device",
      "virtio-rng-device",
      "virtio-net-device",
      "virtio-net-device",
    ]);
    const [net0, blk1, blk0, , net1, net2] = p.devices;
    expect(blk1).toMatchObject({
      serial: "disk,one",
      drive: { file: "b.img", snapshot: true, readOnly: false },
    });
    expect(blk0).toMatchObject({
      drive: { file: "a.qcow2", format: "qcow2", readOnly: true, interface: "virtio" },
    });
    expect(net0).toMatchObject({ netdev: undefined, mac: Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56) });
    expect(net1).toMatchObject({ mac: Uint8Array.of(2, 0, 0, 0, 0, 1) });
    expect(net2).toMatchObject({ mac: Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x57) });
    expect(p.netdevs).toMatchObject([{ id: "n0", mode: "listen", host: "127.0.0.1", port: 5555 }]);
    expect(plan().devices).toEqual([]);
  });

  it.each([
    [["-drive", "format=raw"], "-drive format=raw: parameter 'file' is missing"],
    [["-drive", "file=x,format=qed"], "unknown format 'qed'"],
    [["-drive", "file=x,if=scsi"], "if=scsi is not supported (use if=virtio or if=none)"],
    [["-drive", "file=x,cache=none"], "unsupported parameter 'cache'"],
    [["-drive", "file=x,readonly=maybe"], "parameter 'readonly' expects 'on' or 'off', not 'maybe'"],
    [["-drive", "file=x,,y,"], "empty option"],
    [["-drive", "file=x,id=a", "-drive", "file=y,id=a"], "duplicate drive id 'a'"],
    [["-device", "virtio-blk-device"], "parameter 'drive' is missing"],
    [["-device", "virtio-blk-device,drive=q"], "no -drive with id 'q'"],
    [["-drive", "file=x,if=virtio,id=a", "-device", "virtio-blk-device,drive=a"], "drive 'a' is if=virtio"],
    [
      [
        "-drive",
        "file=x,id=a",
        "-device",
        "virtio-blk-device,drive=a",
        "-device",
        "virtio-blk-device,drive=a",
      ],
      "drive 'a' is already in use",
    ],
    [["-device", "virtio-gpu-device"], "device 'virtio-gpu-device' is not supported"],
    [["-device", "virtio-rng-device,rng=r0"], "unsupported parameter 'rng'"],
    [["-device", "virtio-net-device,netdev=x"], "no -netdev with id 'x'"],
    [["-device", "virtio-net-device,mac=52:54:00:12:34"], "bad MAC address '52:54:00:12:34'"],
    [["-netdev", "user,id=n"], "netdev type 'user' is not supported (use socket)"],
    [["-netdev", "socket,id=n"], "give exactly one of listen=[HOST]:PORT or connect=HOST:PORT"],
    [["-netdev", "socket,id=n,listen=:1,connect=h:2"], "give exactly one of"],
    [["-netdev", "socket,id=n,connect=:5555"], "bad address ':5555' (use HOST:PORT)"],
    [["-netdev", "socket,id=n,listen=:99999"], "bad address ':99999'"],
    [["-netdev", "socket,listen=:5555"], "parameter 'id' is missing"],
    [["-netdev", "socket,id=n,listen=:1", "-netdev", "socket,id=n,listen=:2"], "duplicate netdev id 'n'"],
    [["-drive"], "option -drive needs an argument"],
  ])("%j fails: %s", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(InvalidArgumentError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it("the command prints one error line and exits 1 for a bad flag, a missing image and a refused connection", () => {
    const run = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ["--conditions=source", "--import", "tsx", MAIN, "run", "-bios", "none", ...args],
        {
          encoding: "utf8",
          timeout: 60_000,
        },
      );
    for (const [args, line] of [
      [
        ["-device", "virtio-blk-device,drive=nope"],
        "-device virtio-blk-device,drive=nope: no -drive with id 'nope'",
      ],
      [
        ["-drive", "file=/nonexistent.qcow2,format=qcow2,if=virtio"],
        "-drive file=/nonexistent.qcow2,format=qcow2,if=virtio: Could not open '/nonexistent.qcow2': No such file or directory",
      ],
      [
        ["-netdev", "socket,id=n,connect=127.0.0.1:1"],
        "-netdev socket,id=n,connect=127.0.0.1:1: 127.0.0.1:1: connect ECONNREFUSED",
      ],
    ] as const) {
      const r = run(...args);
      expect(r.status).toBe(1);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toContain(`backplane run: ${line}`);
    }
  }, 60_000);
});

/** The guest side of a virtio-blk disk in the highest slot of a virt machine, driven through the bus. */
function guestDisk(machine: VirtMachine) {
  const base = 0x1000_8000;
  const slot = {
    size: 0x200,
    widths: [4] as const,
    read: (offset: number, width: 1 | 2 | 4) => machine.bus.read(base + offset, width),
    write: (offset: number, width: 1 | 2 | 4, value: number) =>
      void machine.bus.write(base + offset, width, value),
  };
  const driver = new MockVirtioDriver(slot, new AddressSpaceGuestMemory(machine.bus), {
    heapBase: 0x8100_0000,
    heapSize: 0x100_0000,
  });
  expect(driver.init() & R.STATUS_DRIVER_OK).toBeTruthy();
  const request = async (type: number, sector: number, data?: Uint8Array, readLength = 0) => {
    const header = new Uint8Array(16);
    writeU32LE(header, 0, type);
    writeU64LE(header, 8, BigInt(sector));
    const { inAddrs } = driver.submit(
      0,
      data ? [header, data] : [header],
      readLength ? [readLength, 1] : [1],
    );
    for (let i = 0; i < 1000 && driver.takeUsed(0).length === 0; i++)
      await new Promise((r) => setTimeout(r, 1));
    const status = driver.read(inAddrs[inAddrs.length - 1], 1)[0];
    return { status, data: readLength ? driver.read(inAddrs[0], readLength) : undefined };
  };
  return { driver, request };
}

const pattern = (length: number, seed: number) =>
  Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7 + (i >> 9)) & 0xff);

describe.skipIf(noQemuImg)(
  `disks as backplane run opens them${noQemuImg ? " (skipped: no qemu-img)" : ""}`,
  () => {
    it.each(["qcow2", "raw", "vpc", "vmdk", "vdi"])(
      "%s: guest writes and flushes reach the file; qemu-img check and compare agree",
      async (format) => {
        const dir = mkdtempSync(join(tmpdir(), "bp-drive-"));
        const image = join(dir, `disk.${format}`);
        expect(qemuImg("create", "-q", "-f", format, image, "4M").status).toBe(0);
        const expected = new Uint8Array(4 * MiB);
        const opened = await openVirtio(plan("-drive", `file=${image},format=${format},if=virtio`));
        expect(opened.devices[0]).toBeInstanceOf(VirtioBlk);
        const machine = new VirtMachine({ virtio: opened.devices });
        const { request } = guestDisk(machine);
        for (const [sector, length] of [
          [0, 4096],
          [2047, 1024],
          [8000, 512],
        ]) {
          const data = pattern(length, sector);
          expect((await request(VIRTIO_BLK_T_OUT, sector, data)).status).toBe(VIRTIO_BLK_S_OK);
          expected.set(data, sector * 512);
        }
        expect((await request(VIRTIO_BLK_T_FLUSH, 0)).status).toBe(VIRTIO_BLK_S_OK);
        const back = await request(VIRTIO_BLK_T_IN, 2047, undefined, 1024);
        expect(back).toEqual({ status: VIRTIO_BLK_S_OK, data: pattern(1024, 2047) });
        // After the guest's flush, before close, the file already holds a consistent image.
        const raw = join(dir, "expected.raw");
        writeFileSync(raw, expected);
        expect(qemuImg("compare", "-U", "-f", format, "-F", "raw", image, raw).status).toBe(0);
        await opened.close();
        if (format !== "raw" && format !== "vpc") {
          const check = qemuImg("check", "-f", format, image);
          expect(check.status, check.stdout + check.stderr).toBe(0);
        }
        const compare = qemuImg("compare", "-f", format, "-F", "raw", image, raw);
        expect(compare.status, compare.stdout + compare.stderr).toBe(0);
      },
      30_000,
    );

    it("snapshot=on: the guest sees its writes, the file never changes", async () => {
      const dir = mkdtempSync(join(tmpdir(), "bp-drive-"));
      const image = join(dir, "disk.qcow2");
      expect(qemuImg("create", "-q", "-f", "qcow2", image, "1M").status).toBe(0);
      const before = readFileSync(image);
      const opened = await openVirtio(
        plan(
          "-drive",
          `file=${image},format=qcow2,if=none,id=d,snapshot=on`,
          "-device",
          "virtio-blk-device,drive=d",
        ),
      );
      const machine = new VirtMachine({ virtio: opened.devices });
      const { driver, request } = guestDisk(machine);
      expect(driver.features & (1n << BigInt(VIRTIO_BLK_F_RO))).toBe(0n);
      expect((await request(VIRTIO_BLK_T_OUT, 3, pattern(512, 1))).status).toBe(VIRTIO_BLK_S_OK);
      expect((await request(VIRTIO_BLK_T_FLUSH, 0)).status).toBe(VIRTIO_BLK_S_OK);
      expect((await request(VIRTIO_BLK_T_IN, 3, undefined, 512)).data).toEqual(pattern(512, 1));
      await opened.close();
      expect(readFileSync(image).equals(before)).toBe(true);
    });

    it("readonly=on: the device offers VIRTIO_BLK_F_RO, writes fail with IOERR, reads work", async () => {
      const dir = mkdtempSync(join(tmpdir(), "bp-drive-"));
      const image = join(dir, "disk.raw");
      writeFileSync(image, pattern(MiB, 9));
      const opened = await openVirtio(plan("-drive", `file=${image},format=raw,if=virtio,readonly=on`));
      const machine = new VirtMachine({ virtio: opened.devices });
      const { driver, request } = guestDisk(machine);
      expect(driver.features & (1n << BigInt(VIRTIO_BLK_F_RO))).not.toBe(0n);
      expect((await request(VIRTIO_BLK_T_OUT, 0, new Uint8Array(512))).status).toBe(VIRTIO_BLK_S_IOERR);
      expect((await request(VIRTIO_BLK_T_IN, 1, undefined, 512)).data).toEqual(
        pattern(MiB, 9).subarray(512, 1024),
      );
      await opened.close();
      expect(readFileSync(image).equals(Buffer.from(pattern(MiB, 9)))).toBe(true);
    });
  },
);

describe("netdev socket", () => {
  it("a NIC on -netdev socket,listen sends its frames to the connected peer in QEMU's framing", async () => {
    const probe = await SocketNetBackend.listen("127.0.0.1", 0);
    const port = probe.port as number;
    await probe.close();
    const opened = await openVirtio(
      plan(
        "-netdev",
        `socket,id=n,listen=:${port}`,
        "-device",
        "virtio-rng-device",
        "-device",
        "virtio-net-device,netdev=n",
      ),
    );
    expect(opened.devices.map((d) => d.constructor)).toEqual([VirtioRng, VirtioNet]);
    const peer = await SocketNetBackend.connect("127.0.0.1", port);
    const got = new Promise<Uint8Array>((resolve) => peer.onReceive(resolve));
    await new Promise((r) => setTimeout(r, 20));
    const machine = new VirtMachine({ virtio: opened.devices });
    const base = 0x1000_7000;
    const driver = new MockVirtioDriver(
      {
        size: 0x200,
        widths: [4],
        read: (o, w) => machine.bus.read(base + o, w),
        write: (o, w, v) => void machine.bus.write(base + o, w, v),
      },
      new AddressSpaceGuestMemory(machine.bus),
      { heapBase: 0x8100_0000, heapSize: MiB },
    );
    driver.init();
    const frame = pattern(60, 3);
    driver.submit(1, [new Uint8Array(12), frame], []); // transmit queue: virtio-net header + frame
    expect(await got).toEqual(frame);
    await peer.close();
    await opened.close();
  });
});
