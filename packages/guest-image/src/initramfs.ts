/**
 * A minimal BusyBox initramfs for Linux guests: /bin/busybox with a symlink
 * per applet, /dev/console (c 5 1) so the kernel can open the console before
 * devtmpfs is mounted, optional kernel modules, and an /init script.
 *
 * /init mounts proc, sysfs and devtmpfs, loads the modules named in
 * /etc/modules (one file name under /lib/modules per line, in load order),
 * then starts a shell on the console with job control (`setsid cttyhack sh`).
 * Spec: the kernel's Documentation/filesystems/ramfs-rootfs-initramfs.rst
 * (gzip-compressed newc cpio, /init is run as PID 1).
 * Deviation: the applet list is read from the name table BusyBox keeps in
 * its binary (a sorted, NUL-separated list starting "[", "[["), because the
 * binary is for the guest's architecture and cannot be run on the host to ask
 * `busybox --list`. All applets link from /bin; /sbin and /usr/{bin,sbin}
 * are symlinks to it.
 * Modules are passed uncompressed and in load order ({@link resolveModules}
 * in ./kernel-modules.ts gives both).
 * Left out: switching to a real root.
 */
import { CorruptDataError } from "@backplane/core";
import { gzipSync } from "fflate";
import { type CpioEntry, writeCpio } from "./cpio.js";

export interface InitramfsOptions {
  /** The statically linked BusyBox binary for the guest. */
  busybox: Uint8Array;
  /** Applet names to link; default: read from the binary ({@link busyboxApplets}). */
  applets?: readonly string[];
  /** Kernel modules (uncompressed .ko) to carry in /lib/modules and load in this order. */
  modules?: ReadonlyArray<{ name: string; data: Uint8Array }>;
}

/** The /init script run as PID 1. */
export const INIT_SCRIPT = `#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
if [ -f /etc/modules ]; then
  while read -r m; do
    case "$m" in ''|'#'*) continue ;; esac
    insmod "/lib/modules/$m" || echo "init: could not load $m"
  done < /etc/modules
fi
echo "backplane initramfs: BusyBox shell on the console"
exec setsid cttyhack sh
`;

const APPLET = /^[a-z0-9_.[\]-]+$/;

/** Reads the applet names compiled into a BusyBox binary. */
export function busyboxApplets(binary: Uint8Array): string[] {
  const start = findTable(binary);
  if (start < 0)
    throw new CorruptDataError("busybox: applet name table not found (is this a BusyBox binary?)");
  const latin1 = new TextDecoder("latin1");
  const names: string[] = [];
  let at = start;
  for (;;) {
    const end = binary.indexOf(0, at);
    if (end <= at) break;
    const name = latin1.decode(binary.subarray(at, end));
    if (!APPLET.test(name) || (names.length > 0 && name <= names[names.length - 1])) break;
    names.push(name);
    at = end + 1;
  }
  return names;
}

function findTable(binary: Uint8Array): number {
  const marker = [0x5b, 0x00, 0x5b, 0x5b, 0x00]; // "[\0[[\0"
  let at = binary.indexOf(marker[0]);
  while (at >= 0) {
    if (marker.every((b, i) => binary[at + i] === b)) return at;
    at = binary.indexOf(marker[0], at + 1);
  }
  return -1;
}

/** The cpio entries of the initramfs (before compression). */
export function initramfsEntries(options: InitramfsOptions): CpioEntry[] {
  const applets = options.applets ?? busyboxApplets(options.busybox);
  const modules = options.modules ?? [];
  const entries: CpioEntry[] = [
    ...["dev", "etc", "lib/modules", "proc", "root", "sys", "tmp"].map((path) => ({
      type: "directory" as const,
      path,
    })),
    { type: "chardev", path: "dev/console", major: 5, minor: 1 },
    { type: "file", path: "bin/busybox", data: options.busybox, mode: 0o755 },
    { type: "file", path: "init", data: new TextEncoder().encode(INIT_SCRIPT), mode: 0o755 },
    { type: "symlink", path: "sbin", target: "bin" },
    { type: "symlink", path: "usr/bin", target: "../bin" },
    { type: "symlink", path: "usr/sbin", target: "../bin" },
    ...applets
      .filter((a) => a !== "busybox")
      .map((a) => ({ type: "symlink" as const, path: `bin/${a}`, target: "busybox" })),
    ...modules.map((m) => ({ type: "file" as const, path: `lib/modules/${m.name}`, data: m.data })),
  ];
  if (modules.length > 0) {
    entries.push({
      type: "file",
      path: "etc/modules",
      data: new TextEncoder().encode(modules.map((m) => `${m.name}\n`).join("")),
    });
  }
  return entries;
}

/** Builds the gzip-compressed initramfs; equal inputs give identical bytes. */
export function buildInitramfs(options: InitramfsOptions): Uint8Array {
  return gzipSync(writeCpio(initramfsEntries(options)), { level: 9, mtime: 0 });
}
