/**
 * Parses the QEMU system-emulator flags `backplane run` accepts (QEMU 7.2
 * docs/system/invocation.rst): -M/-machine, -m, -smp, -nographic, -bios,
 * -kernel, -initrd, -append, -dtb, -serial, -icount, and the virtio flags
 * -drive, -device, -netdev (checked in virtio.ts). Anything else is an error
 * naming the flag.
 */
import { InvalidArgumentError } from "@backplane/core";
import { planVirtio, type VirtioFlag, type VirtioPlan } from "./virtio.js";

export interface RunArgs {
  memoryBytes: number;
  /** True when -m was given (the default guest then keeps it). */
  memoryGiven: boolean;
  /** "none", a firmware path, or undefined for the default firmware. */
  bios: string | undefined;
  kernel: string | undefined;
  initrd: string | undefined;
  append: string | undefined;
  dtb: string | undefined;
  /** Virtual time: 2^shift ns per instruction (QEMU's -icount shift=N); host time when undefined. */
  icountShift: number | undefined;
  help: boolean;
  /** Drives, netdevs and virtio devices, checked and cross-referenced. */
  virtio: VirtioPlan;
}

export const USAGE = `usage: backplane run [options]
  -M virt              machine type (only virt)
  -m SIZE              RAM size: 128M (default), 1G, 256 (MiB)
  -smp 1               number of harts (only 1)
  -nographic           serial console on stdio (the only display)
  -bios none|FILE      firmware run first at 0x80000000 (default: QEMU's OpenSBI, if installed)
  -kernel FILE         ELF, Linux Image or raw binary (none and no -bios: the Debian guest)
  -initrd FILE         initial ramdisk
  -append CMDLINE      kernel command line
  -dtb FILE            device tree blob instead of the generated one
  -serial stdio        serial port backend (only stdio)
  -icount shift=N      deterministic time: 2^N ns per instruction
  -drive file=F[,format=raw|qcow2|vpc|vhd|vmdk|vdi][,if=virtio|none][,id=ID]
         [,readonly=on][,snapshot=on]   disk image (if=virtio: a virtio-blk disk)
  -device virtio-blk-device,drive=ID[,serial=S]   disk for an if=none drive
  -device virtio-rng-device                       entropy (/dev/hwrng)
  -device virtio-net-device[,netdev=ID][,mac=52:54:00:12:34:56]
  -netdev socket,id=ID,listen=[HOST]:PORT|connect=HOST:PORT
                       link in QEMU's socket framing (to Backplane or QEMU)
Console keys when stdin is a terminal: C-a x exit, C-a h help.
`;

const MiB = 1024 * 1024;

/** Parses QEMU's size syntax: a number with optional K/M/G/T suffix; no suffix means MiB. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`invalid RAM size '${text}' (use e.g. 128M or 1G)`);
  const unit = { "": MiB, K: 1024, M: MiB, G: 1024 * MiB, T: 1024 * 1024 * MiB }[
    m[2].toUpperCase()
  ] as number;
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes % 4096 !== 0 || bytes <= 0)
    throw new InvalidArgumentError(`RAM size '${text}' must be a positive multiple of 4 KiB`);
  return bytes;
}

export function parseArgs(argv: readonly string[]): RunArgs {
  const args: RunArgs = {
    memoryBytes: 128 * MiB,
    memoryGiven: false,
    bios: undefined,
    kernel: undefined,
    initrd: undefined,
    append: undefined,
    dtb: undefined,
    icountShift: undefined,
    help: false,
    virtio: planVirtio([]),
  };
  const virtioFlags: VirtioFlag[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    // QEMU accepts --flag as well as -flag.
    const flag = raw.startsWith("--") ? raw.slice(1) : raw;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new InvalidArgumentError(`option ${raw} needs an argument`);
      return v;
    };
    switch (flag) {
      case "-h":
      case "-help":
        args.help = true;
        break;
      case "-M":
      case "-machine": {
        const type = value().split(",")[0];
        if (type !== "virt") throw new InvalidArgumentError(`unsupported machine type '${type}' (only virt)`);
        break;
      }
      case "-m":
        args.memoryBytes = parseSize(value().replace(/^size=/, ""));
        args.memoryGiven = true;
        break;
      case "-smp": {
        const v = value();
        if (!/^(cpus=)?1$/.test(v)) throw new InvalidArgumentError(`-smp ${v}: only one hart is supported`);
        break;
      }
      case "-nographic":
        break;
      case "-bios":
        args.bios = value();
        break;
      case "-kernel":
        args.kernel = value();
        break;
      case "-initrd":
        args.initrd = value();
        break;
      case "-append":
        args.append = value();
        break;
      case "-dtb":
        args.dtb = value();
        break;
      case "-serial": {
        const v = value();
        if (v !== "stdio" && v !== "mon:stdio")
          throw new InvalidArgumentError(`-serial ${v}: only stdio is supported`);
        break;
      }
      case "-icount": {
        const v = value();
        const m = /^(?:shift=)?(\d+)$/.exec(v);
        if (!m || Number(m[1]) > 10)
          throw new InvalidArgumentError(`-icount ${v}: use shift=N with N from 0 to 10`);
        args.icountShift = Number(m[1]);
        break;
      }
      case "-drive":
      case "-device":
      case "-netdev":
        virtioFlags.push({ flag, value: value() });
        break;
      default:
        throw new InvalidArgumentError(
          raw.startsWith("-") ? `unknown option '${raw}'` : `unexpected argument '${raw}'`,
        );
    }
  }
  args.virtio = planVirtio(virtioFlags);
  return args;
}
