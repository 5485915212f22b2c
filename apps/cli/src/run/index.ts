/**
 * `backplane run` — runs a RISC-V `virt` machine with QEMU's command-line
 * flags (see args.ts). The serial console is the terminal; the exit status
 * follows the SiFive test device like QEMU's: 0x5555 exits 0,
 * (code << 16) | 0x3333 exits with `code`.
 *
 * With neither -kernel nor -bios it boots the default guest: Debian's riscv64
 * kernel, OpenSBI 1.6 and a BusyBox initramfs from `backplane guest fetch`
 * (fetched on first use, then cached), with 256 MiB of RAM unless -m says
 * otherwise.
 *
 * Deviation: without -bios, QEMU's own OpenSBI build is used only when
 * installed at /usr/share/qemu; there is no monitor (Ctrl-A c).
 */
import { existsSync, readFileSync } from "node:fs";
import { BackplaneError, NotFoundError } from "@backplane/core";
import { StdioCharBackend } from "@backplane/host-node";
import { VIRT_BOARD, VirtMachine } from "@backplane/machine-riscv-virt";
import { ensureDebianGuest } from "../guest/debian.js";
import { progressReporter } from "../guest/progress.js";
import { parseArgs, type RunArgs, USAGE } from "./args.js";
import { openVirtio } from "./virtio.js";

/** The kernel command line of the default guest, as QEMU's reference run uses it. */
const DEFAULT_GUEST_APPEND = "console=ttyS0 earlycon=sbi";
const DEFAULT_GUEST_MEMORY = 256 * 1024 * 1024;

/** Fills -bios/-kernel/-initrd/-append from the cached Debian guest (fetching it first if needed). */
async function useDefaultGuest(args: RunArgs): Promise<void> {
  const progress = progressReporter();
  try {
    const guest = await ensureDebianGuest({
      onProgress: progress.onProgress,
      onStatus: (s) => progress.line(`fetching ${s}`),
    });
    progress.close();
    args.bios = guest.firmware.jump;
    args.kernel = guest.kernel;
    args.initrd = guest.initrd;
    args.append ??= DEFAULT_GUEST_APPEND;
    if (!args.memoryGiven) args.memoryBytes = DEFAULT_GUEST_MEMORY;
  } catch (err) {
    progress.close();
    throw err;
  }
}

/** QEMU's default firmware for -M virt on RV64 (Debian package qemu-system-data). */
const QEMU_DEFAULT_BIOS = "/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin";

function readImage(what: string, path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new NotFoundError(`could not load ${what} '${path}': ${(cause as Error).message}`, { cause });
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof BackplaneError) {
      process.stderr.write(`backplane run: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.kernel === undefined && args.bios === undefined) await useDefaultGuest(args);
  let biosPath = args.bios;
  if (biosPath === undefined) {
    if (!existsSync(QEMU_DEFAULT_BIOS)) {
      throw new NotFoundError(`no default firmware at ${QEMU_DEFAULT_BIOS}; use -bios none or -bios FILE`);
    }
    biosPath = QEMU_DEFAULT_BIOS;
  }
  const images = {
    bios: biosPath === "none" ? undefined : readImage("firmware", biosPath),
    kernel: args.kernel === undefined ? undefined : readImage("kernel", args.kernel),
    initrd: args.initrd === undefined ? undefined : readImage("initrd", args.initrd),
    dtb: args.dtb === undefined ? undefined : readImage("device tree", args.dtb),
    append: args.append,
  };

  const virtio = await openVirtio(args.virtio);
  let machine: VirtMachine | undefined;
  let quit = false;
  const console = new StdioCharBackend({
    onQuit: () => {
      quit = true;
      machine?.loop.stop();
    },
  });
  try {
    const ns = (): number => performance.now() * 1e6;
    machine = new VirtMachine({
      board: { ...VIRT_BOARD, ram: { base: VIRT_BOARD.ram.base, size: args.memoryBytes } },
      console,
      virtio: virtio.devices,
      hostTime: args.icountShift === undefined ? ns : undefined,
      nsPerInstruction: args.icountShift === undefined ? undefined : 2 ** args.icountShift,
      wallClock: { epochNs: () => BigInt(Date.now()) * 1_000_000n },
      host: {
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        yield: () => new Promise((resolve) => setImmediate(resolve)),
      },
    });
    const loop = machine.loop;
    console.onReadable(() => loop.wake());
    machine.boot(images);
    const exit = await machine.run();
    return quit ? 0 : exit.code;
  } finally {
    console.close();
    await virtio.close();
  }
}
