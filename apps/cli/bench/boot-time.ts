// Measures the time from spawning a VM to the BusyBox shell prompt of the
// cached Debian riscv64 guest (fetched when missing), and powers it off.
// QEMU and `backplane run` get the same flags, so the numbers compare.
//   node --conditions=source --import tsx apps/cli/bench/boot-time.ts [--runs N] [--vm qemu|backplane]...
// With both VMs it ends with the ratio of their best times.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureDebianGuest } from "../src/guest/index.js";
import { bootLinux, debianVirtFlags, type VmCommand } from "../test/support/linux-console.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    vm: { type: "string", multiple: true, default: ["qemu"] },
  },
});
const CLI = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const vms: Record<string, (flags: string[]) => VmCommand> = {
  qemu: (flags) => ({ command: "qemu-system-riscv64", args: flags }),
  backplane: (flags) => ({
    command: process.execPath,
    args: ["--conditions=source", "--import", "tsx", CLI, "run", ...flags],
  }),
};

const guest = await ensureDebianGuest();
const flags = debianVirtFlags(guest);
const best: Record<string, number> = {};
for (const name of values.vm) {
  const command = vms[name];
  if (!command) throw new Error(`unknown --vm '${name}' (want ${Object.keys(vms).join(" or ")})`);
  const times: number[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const vm = await bootLinux({ ...command(flags), quietKernel: false });
    times.push(vm.bootMs);
    const code = await vm.poweroff();
    if (code !== 0) throw new Error(`${name}: poweroff exited ${code}`);
  }
  best[name] = Math.min(...times);
  const ms = times.map((t) => (t / 1000).toFixed(2)).join(" ");
  process.stdout.write(
    `${name}: spawn to shell prompt, s: ${ms} (min ${(Math.min(...times) / 1000).toFixed(2)})\n`,
  );
}
if (best.qemu !== undefined && best.backplane !== undefined) {
  process.stdout.write(
    `boot to shell prompt, backplane / qemu: ${(best.backplane / best.qemu).toFixed(1)}x\n`,
  );
}
