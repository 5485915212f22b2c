/**
 * The virtio devices of `backplane run`, from QEMU 7.2's flags: `-drive`
 * (drive.ts), `-netdev` (netdev.ts) and `-device virtio-blk-device,drive=ID
 * [,serial=S]`, `-device virtio-rng-device`, `-device virtio-net-device
 * [,netdev=ID][,mac=52:54:00:...]`. Devices take the board's virtio-mmio
 * slots in command-line order (an `if=virtio` drive counts where it
 * appears), the first in the highest slot as on QEMU. As in QEMU, every
 * drive and netdev is opened even when no device uses it, a -device may name
 * a drive or netdev given later, and a NIC without `mac=` gets
 * 52:54:00:12:34:56, then :57, ...
 */
import type { BlockBackend, NetBackend } from "@backplane/core";
import type { VirtioDevice } from "@backplane/virtio";
import { VirtioBlk } from "@backplane/virtio-blk";
import { parseMac, VirtioNet } from "@backplane/virtio-net";
import { VirtioRng } from "@backplane/virtio-rng";
import { type DriveSpec, openDrive, parseDrive } from "./drive.js";
import { type NetdevSpec, openNetdev, parseNetdev } from "./netdev.js";
import { QemuOpts } from "./qemu-opts.js";

/** A -drive, -device or -netdev flag and its argument, in command-line order. */
export interface VirtioFlag {
  flag: "-drive" | "-device" | "-netdev";
  value: string;
}

type DeviceSpec =
  | { model: "virtio-blk-device"; drive: DriveSpec; serial: string | undefined }
  | { model: "virtio-rng-device" }
  | { model: "virtio-net-device"; netdev: NetdevSpec | undefined; mac: Uint8Array };

/** The validated flags: what to open and which devices to build, in slot order. */
export interface VirtioPlan {
  drives: DriveSpec[];
  netdevs: NetdevSpec[];
  devices: DeviceSpec[];
}

const MODELS: readonly string[] = ["virtio-blk-device", "virtio-rng-device", "virtio-net-device"];

/** Checks the flags and resolves their references; throws a clear error for the first bad one. */
export function planVirtio(flags: readonly VirtioFlag[]): VirtioPlan {
  const drives = new Map<string, DriveSpec>();
  const netdevs = new Map<string, NetdevSpec>();
  const plan: VirtioPlan = { drives: [], netdevs: [], devices: [] };
  /** The -drive of each flag position. */
  const driveAt = new Map<number, DriveSpec>();
  for (const [i, { flag, value }] of flags.entries()) {
    if (flag === "-drive") {
      const drive = parseDrive(value);
      driveAt.set(i, drive);
      if (drive.id !== undefined) {
        if (drives.has(drive.id)) throw drive.opts.error(`duplicate drive id '${drive.id}'`);
        drives.set(drive.id, drive);
      }
      plan.drives.push(drive);
    } else if (flag === "-netdev") {
      const netdev = parseNetdev(value);
      if (netdevs.has(netdev.id)) throw netdev.opts.error(`duplicate netdev id '${netdev.id}'`);
      netdevs.set(netdev.id, netdev);
      plan.netdevs.push(netdev);
    }
  }
  const usedDrives = new Set<DriveSpec>();
  const useDrive = (opts: QemuOpts | undefined, drive: DriveSpec): DriveSpec => {
    if (usedDrives.has(drive)) throw (opts ?? drive.opts).error(`drive '${drive.id}' is already in use`);
    usedDrives.add(drive);
    return drive;
  };
  let nextMac = 0x56;
  for (const [i, { flag, value }] of flags.entries()) {
    const drive = driveAt.get(i);
    if (drive) {
      if (drive.interface === "virtio") {
        plan.devices.push({
          model: "virtio-blk-device",
          drive: useDrive(undefined, drive),
          serial: undefined,
        });
      }
      continue;
    }
    if (flag !== "-device") continue;
    const opts = new QemuOpts("-device", value, "driver");
    const model = opts.require("driver");
    if (!MODELS.includes(model)) {
      throw opts.error(`device '${model}' is not supported (use ${MODELS.join(", ")})`);
    }
    if (model === "virtio-blk-device") {
      opts.only(["driver", "id", "drive", "serial"]);
      const id = opts.require("drive");
      const drive = drives.get(id);
      if (!drive) throw opts.error(`no -drive with id '${id}'`);
      if (drive.interface !== "none") throw opts.error(`drive '${id}' is if=virtio; give it if=none`);
      plan.devices.push({
        model: "virtio-blk-device",
        drive: useDrive(opts, drive),
        serial: opts.get("serial"),
      });
    } else if (model === "virtio-rng-device") {
      opts.only(["driver", "id"]);
      plan.devices.push({ model: "virtio-rng-device" });
    } else {
      opts.only(["driver", "id", "netdev", "mac"]);
      const id = opts.get("netdev");
      const netdev = id === undefined ? undefined : netdevs.get(id);
      if (id !== undefined && !netdev) throw opts.error(`no -netdev with id '${id}'`);
      const text = opts.get("mac");
      let mac: Uint8Array;
      if (text === undefined) mac = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, nextMac++ & 0xff);
      else {
        try {
          mac = parseMac(text);
        } catch (err) {
          throw opts.error((err as Error).message);
        }
      }
      plan.devices.push({ model: "virtio-net-device", netdev, mac });
    }
  }
  return plan;
}

/** The opened devices and a way to release their host resources (flushing and closing images). */
export interface OpenedVirtio {
  devices: VirtioDevice[];
  close(): Promise<void>;
}

/** A network cable plugged into nothing. */
const UNPLUGGED: NetBackend = { send() {}, onReceive: () => () => {} };

/** Opens every drive and netdev of `plan` and builds its devices. */
export async function openVirtio(plan: VirtioPlan): Promise<OpenedVirtio> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const disks = new Map<DriveSpec, BlockBackend>();
    for (const drive of plan.drives) {
      const disk = await openDrive(drive);
      closers.push(() => disk.close());
      disks.set(drive, disk);
    }
    const links = new Map<NetdevSpec, NetBackend>();
    for (const netdev of plan.netdevs) {
      const link = await openNetdev(netdev);
      closers.push(() => link.close());
      links.set(netdev, link);
    }
    const devices = plan.devices.map((d): VirtioDevice => {
      if (d.model === "virtio-blk-device") {
        return new VirtioBlk({ backend: disks.get(d.drive) as BlockBackend, serial: d.serial });
      }
      if (d.model === "virtio-rng-device") return new VirtioRng();
      return new VirtioNet({
        backend: d.netdev ? (links.get(d.netdev) as NetBackend) : UNPLUGGED,
        mac: d.mac,
      });
    });
    return { devices, close };
  } catch (err) {
    await close();
    throw err;
  }
}
