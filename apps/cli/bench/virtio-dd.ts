/**
 * Benchmark: sequential `dd` read and write inside the Debian guest on a
 * virtio-blk disk, raw and qcow2, on `backplane run` and on QEMU with the same
 * kernel, initramfs, image and flags, in the same run. Reports MiB/s and the
 * ratio ours/QEMU. Debian's BusyBox dd prints no rate, so the host times each
 * command on the console and subtracts the time of a no-op command (the
 * console round trip). Reads use iflag=direct and writes oflag=direct, so the
 * guest's page cache does not answer for the disk.
 *
 *   node --conditions=source --import tsx apps/cli/bench/virtio-dd.ts   (BACKPLANE_BENCH_DD_MIB=32)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDebianGuest } from "../src/guest/index.js";
import { type BootOptions, bootLinux, debianVirtFlags } from "../test/support/linux-console.js";

const MIB = Number(process.env.BACKPLANE_BENCH_DD_MIB ?? 32);
const CLI = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const vms: Record<string, (flags: string[]) => BootOptions> = {
  qemu: (flags) => ({ command: "qemu-system-riscv64", args: flags }),
  backplane: (flags) => ({
    command: process.execPath,
    args: ["--conditions=source", "--import", "tsx", CLI, "run", ...flags],
    bootTimeoutMs: 900_000,
    commandTimeoutMs: 600_000,
  }),
};

const guest = await ensureDebianGuest();
const dir = mkdtempSync(join(tmpdir(), "bp-dd-"));
const results: Record<string, Record<string, number>> = {};
try {
  for (const format of ["raw", "qcow2"]) {
    for (const [name, vm] of Object.entries(vms)) {
      const image = join(dir, `${name}.${format}`);
      execFileSync("qemu-img", ["create", "-q", "-f", format, image, `${MIB * 2}M`]);
      const linux = await bootLinux(
        vm(debianVirtFlags(guest, ["-drive", `file=${image},format=${format},if=virtio`])),
      );
      const timed = async (cmd: string): Promise<number> => {
        const started = performance.now();
        const r = await linux.run(`${cmd} 2>&1`);
        if (r.status !== 0) throw new Error(`${name}: '${cmd}' failed: ${r.output}`);
        return performance.now() - started;
      };
      const roundTrip = Math.min(await timed("true"), await timed("true"), await timed("true"));
      const run = async (cmd: string): Promise<number> => MIB / ((await timed(cmd)) - roundTrip) / 1e-3;
      const write = await run(`dd if=/dev/zero of=/dev/vda bs=1M count=${MIB} oflag=direct`);
      const read = await run(`dd if=/dev/vda of=/dev/null bs=1M count=${MIB} iflag=direct`);
      await linux.poweroff();
      results[`${format} write`] = { ...results[`${format} write`], [name]: write };
      results[`${format} read`] = { ...results[`${format} read`], [name]: read };
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`virtio-blk sequential dd inside the guest, ${MIB} MiB, MiB/s\n`);
for (const [what, r] of Object.entries(results)) {
  process.stdout.write(
    `${what.padEnd(12)} backplane ${r.backplane.toFixed(1).padStart(7)}  qemu ${r.qemu.toFixed(1).padStart(7)}  ratio ${(r.backplane / r.qemu).toFixed(2)}\n`,
  );
}
