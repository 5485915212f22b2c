/**
 * A RISC-V `virt` machine composed from Backplane packages: RAM, a mask ROM
 * with the reset vector, one RV64GC hart and the devices of a board table
 * (board.ts), wired to the hart's interrupt inputs and a scheduler run loop.
 * Time is virtual by default (guest time follows retired instructions, so
 * runs are reproducible) or host time.
 *
 * Deviation: one hart (`-smp 1`). A reset request from the test device stops
 * the machine like a poweroff (QEMU resets and reruns).
 */

import { Aclint } from "@backplane/aclint";
import type { CharBackend, IrqLine, TimerHandle, WallClock } from "@backplane/core";
import { InvalidArgumentError, NO_IRQ, UnsupportedError } from "@backplane/core";
import { type DeviceTree, parseBlob, toBlob } from "@backplane/fdt";
import { GoldfishRtc } from "@backplane/goldfish-rtc";
import { AddressSpace, AddressSpaceGuestMemory, type Ram } from "@backplane/memory";
import { Plic } from "@backplane/plic";
import {
  Hart,
  IRQ_M_EXT,
  IRQ_M_SOFT,
  IRQ_M_TIMER,
  IRQ_S_EXT,
  ISA_STRING,
  ISA_STRING_RV32,
  loadElf,
} from "@backplane/riscv";
import {
  HostClock,
  type HostServices,
  type HostTimeSource,
  RunLoop,
  TimerQueue,
  VirtualClock,
} from "@backplane/scheduler";
import { Syscon } from "@backplane/syscon";
import { Uart16550 } from "@backplane/uart16550";
import type { VirtioDevice, VirtioMmioTransport } from "@backplane/virtio";
import { type Board, devicesOf, VIRT_BOARD } from "./board.js";
import { dtbAddress, imageKind, initrdStart, kernelStart, resetVector } from "./boot.js";
import { buildDeviceTree, setChosen } from "./device-tree.js";
import { attachVirtioSlots } from "./virtio.js";

export interface VirtMachineOptions {
  /** The board table (default {@link VIRT_BOARD}: QEMU virt with 128 MiB). */
  board?: Board;
  /** Host side of the first UART (the console); output is dropped and no input arrives without one. */
  console?: CharBackend;
  /** Time of day for the RTC (default: the Unix epoch plus machine time, for reproducible runs). */
  wallClock?: WallClock;
  /** Host timer in nanoseconds for host-time mode; virtual time when absent. */
  hostTime?: HostTimeSource;
  /** Virtual time per retired instruction (default 10 ns). */
  nsPerInstruction?: number;
  /** Host services for {@link VirtMachine.run} (sleep and yield). */
  host?: HostServices;
  /** Virtio devices for the virtio-mmio slots; the first takes the highest slot, as on QEMU. */
  virtio?: readonly VirtioDevice[];
  /** The hart's XLEN: 64 (RV64GC, as qemu-system-riscv64) or 32 (RV32GC, as qemu-system-riscv32). Default 64. */
  xlen?: 32 | 64;
}

/** What to boot, like QEMU's -bios/-kernel/-initrd/-append/-dtb. */
export interface BootImages {
  /** Firmware run first at the start of RAM; absent = `-bios none`. */
  bios?: Uint8Array;
  /** An ELF, a Linux RISC-V Image or a raw binary. */
  kernel?: Uint8Array;
  initrd?: Uint8Array;
  /** Kernel command line. */
  append?: string;
  /** A device tree blob to use instead of the generated one. */
  dtb?: Uint8Array;
}

/** Where {@link VirtMachine.boot} put things. */
export interface BootLayout {
  /** First instruction after the reset vector. */
  start: number;
  firmware?: { start: number; end: number };
  kernel?: { start: number; end: number; entry: number };
  initrd?: { start: number; end: number };
  dtb: { start: number; end: number };
}

/** How a run ended. */
export interface ExitStatus {
  /** The test device's process-style status: 0 for pass, the failure code otherwise (QEMU's exit status). */
  code: number;
  /** True when the guest asked for a reset rather than a poweroff. */
  reset: boolean;
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const CSR_MENVCFG = 0x30a;
const CSR_STIMECMP = 0x14d;
const CSR_MINSTRET = 0xb02;
/** menvcfg.STCE: Sstc's stimecmp is enabled. */
const MENVCFG_STCE = 1n << 63n;

/** A console with nobody at the other end. */
const DISCONNECTED: CharBackend = { write() {}, read: () => 0, onReadable: () => () => {} };

export class VirtMachine {
  readonly board: Board;
  readonly bus: AddressSpace;
  readonly ram: Ram;
  readonly hart: Hart;
  /** The hart's XLEN. */
  readonly xlen: 32 | 64;
  readonly clock: VirtualClock | HostClock;
  readonly timers: TimerQueue;
  readonly loop: RunLoop;
  /** The CLINT, when the board has one. */
  readonly clint: Aclint | undefined;
  /** The PLIC, when the board has one. */
  readonly plic: Plic | undefined;
  /** The UARTs, in board-table order; the first is the console. */
  readonly uarts: readonly Uart16550[];
  /** The transports of `options.virtio`, in the same order. */
  readonly virtio: readonly VirtioMmioTransport[];
  private exit: ExitStatus | undefined;

  constructor(options: VirtMachineOptions = {}) {
    const board = options.board ?? VIRT_BOARD;
    this.board = board;
    this.bus = new AddressSpace();
    this.ram = this.bus.addRam("ram", board.ram.base, board.ram.size);
    this.clock = options.hostTime ? new HostClock(options.hostTime) : new VirtualClock();
    this.timers = new TimerQueue(this.clock);
    let clint: Aclint | undefined;
    // In virtual time the clock moves between slices; `time` also counts the
    // instructions retired so far in the current slice, so it advances as the
    // hart runs (as QEMU's -icount does; Linux times short loops with rdtime).
    const nsPerInstruction = options.nsPerInstruction ?? 10;
    let slice: { instret: bigint; budget: number } | undefined;
    const inSliceTicks = (): bigint => {
      if (slice === undefined) return 0n;
      const ran = Number((this.hart.readCsr(CSR_MINSTRET) ?? 0n) - slice.instret);
      const done = Math.min(Math.max(ran, 0), slice.budget) * nsPerInstruction;
      const now = this.clock.now();
      return BigInt(Math.floor((now + done) / 100) - Math.floor(now / 100));
    };
    this.xlen = options.xlen ?? 64;
    this.hart = new Hart({
      xlen: this.xlen,
      bus: this.bus,
      resetPc: board.mrom.base,
      time: () => (clint ? clint.mtime() : BigInt(Math.floor(this.clock.now() / 100))) + inSliceTicks(),
    });
    // The PLIC comes first so that every other device can take its interrupt line.
    let plic: Plic | undefined;
    for (const device of board.devices) {
      if (device.kind !== "plic") continue;
      plic = new Plic({
        contexts: [this.hart.irqLine(IRQ_M_EXT), this.hart.irqLine(IRQ_S_EXT)],
        numSources: device.sources,
      });
      this.bus.addDevice("plic", device.base, plic);
    }
    const irq = (source: number): IrqLine => plic?.irqLine(source) ?? NO_IRQ;
    const uarts: Uart16550[] = [];
    const wallClock: WallClock = options.wallClock ?? { epochNs: () => BigInt(Math.floor(this.clock.now())) };
    for (const device of board.devices) {
      switch (device.kind) {
        case "plic":
          break;
        case "clint":
          clint = new Aclint({
            timers: this.timers,
            harts: [{ msip: this.hart.irqLine(IRQ_M_SOFT), mtip: this.hart.irqLine(IRQ_M_TIMER) }],
          });
          this.bus.addDevice("clint", device.base, clint);
          break;
        case "uart16550": {
          const uart = new Uart16550({
            char: uarts.length === 0 && options.console ? options.console : DISCONNECTED,
            irq: irq(device.irq),
            timers: this.timers,
          });
          uarts.push(uart);
          this.bus.addDevice(`serial@${device.base.toString(16)}`, device.base, uart);
          break;
        }
        case "goldfish-rtc":
          this.bus.addDevice(
            "rtc",
            device.base,
            new GoldfishRtc({ wallClock, timers: this.timers, irq: irq(device.irq) }),
          );
          break;
        case "syscon":
          this.bus.addDevice(
            "test",
            device.base,
            new Syscon({
              events: {
                onPowerOff: (code) => this.finish({ code, reset: false }),
                onReset: () => this.finish({ code: 0, reset: true }),
              },
            }),
          );
          break;
        case "virtio-mmio":
          break; // attached below, all slots at once
      }
    }
    this.plic = plic;
    this.uarts = uarts;
    this.clint = clint;
    this.virtio = attachVirtioSlots({
      bus: this.bus,
      slots: devicesOf(board, "virtio-mmio"),
      devices: options.virtio ?? [],
      memory: new AddressSpaceGuestMemory(this.bus),
      irq,
      onInterrupt: () => this.loop.wake(),
    });
    // Sstc 1.0: the hart raises STIP itself once time >= stimecmp, but the run
    // loop only advances to (or sleeps until) deadlines in the timer queue. Keep
    // a timer armed at the stimecmp deadline, so a hart waiting in WFI for it
    // wakes (Linux's idle loop) and slices end where the interrupt is due.
    const hart = this.hart;
    let sstcCompare: bigint | undefined;
    let sstcTimer: TimerHandle | undefined;
    const armSstc = (): void => {
      const enabled = ((hart.readCsr(CSR_MENVCFG) ?? 0n) & MENVCFG_STCE) !== 0n;
      const compare = enabled ? hart.readCsr(CSR_STIMECMP) : undefined;
      if (compare === sstcCompare) return;
      sstcCompare = compare;
      sstcTimer?.cancel();
      sstcTimer = undefined;
      if (compare === undefined) return;
      const at = clint ? clint.deadlineFor(compare) : Number(compare) * 100;
      if (at === undefined || !Number.isSafeInteger(at) || at <= this.clock.now()) return;
      sstcTimer = this.timers.at(at, () => {
        sstcTimer = undefined;
      });
    };
    this.loop = new RunLoop({
      hart: {
        run: (budget) => {
          if (this.clock instanceof VirtualClock)
            slice = { instret: hart.readCsr(CSR_MINSTRET) ?? 0n, budget };
          const result = hart.run(budget);
          slice = undefined;
          armSstc();
          return result;
        },
      },
      timers: this.timers,
      clock: this.clock,
      nsPerInstruction: options.nsPerInstruction,
      host: options.host,
    });
  }

  /** Set once the guest powered off or asked for a reset. */
  get exitStatus(): ExitStatus | undefined {
    return this.exit;
  }

  private finish(status: ExitStatus): void {
    if (this.exit === undefined) this.exit = status;
    this.loop.stop();
  }

  /**
   * Loads firmware, kernel, initrd and device tree as QEMU's virt board does
   * and writes the reset vector. Throws typed errors for images that are not
   * RISC-V or do not fit in RAM.
   */
  boot(images: BootImages): BootLayout {
    const { ram } = this.board;
    const ramEnd = ram.base + ram.size;
    const layout: Partial<BootLayout> = {};
    const place = (what: string, image: Uint8Array, at: number): { start: number; end: number } => {
      if (at < ram.base || at + image.length > ramEnd) {
        throw new InvalidArgumentError(
          `${what} (${image.length} bytes at ${hex(at)}) does not fit in ${ram.size / 1024 / 1024} MiB of RAM at ${hex(ram.base)}`,
        );
      }
      this.ram.bytes.set(image, at - ram.base);
      return { start: at, end: at + image.length };
    };
    const loadImage = (
      what: string,
      image: Uint8Array,
      at: number,
    ): { start: number; end: number; entry: number } => {
      if (imageKind(image) === "elf") {
        const elf = loadElf(this.bus, image);
        if (elf.xlen !== this.xlen) {
          throw new UnsupportedError(`${what} is a ${elf.xlen}-bit ELF; the hart is RV${this.xlen}`);
        }
        let start = Number.POSITIVE_INFINITY;
        let end = 0;
        for (const s of elf.segments) {
          start = Math.min(start, Number(s.address));
          end = Math.max(end, Number(s.address) + s.memorySize);
        }
        return { start, end, entry: Number(elf.entry) };
      }
      const range = place(what, image, at);
      return { ...range, entry: at };
    };

    let firmwareEnd = ram.base;
    let start: number | undefined;
    if (images.bios) {
      const fw = loadImage("firmware", images.bios, ram.base);
      layout.firmware = { start: fw.start, end: fw.end };
      firmwareEnd = fw.end;
      start = fw.entry;
    }
    let next = kernelStart(firmwareEnd, this.xlen);
    if (images.kernel) {
      layout.kernel = loadImage("kernel", images.kernel, next);
      next = layout.kernel.entry;
      start ??= next;
    }
    if (images.initrd) {
      if (!layout.kernel) throw new InvalidArgumentError("an initrd needs a kernel");
      layout.initrd = place("initrd", images.initrd, initrdStart(layout.kernel.entry, ram.size));
    }
    if (start === undefined) throw new InvalidArgumentError("nothing to boot: give a kernel or firmware");

    const tree: DeviceTree = images.dtb ? parseBlob(images.dtb) : this.deviceTree();
    setChosen(tree, { bootargs: images.append, initrd: layout.initrd });
    const blob = toBlob(tree);
    const dtbAt = dtbAddress(ram.base, ram.size, blob.length);
    layout.dtb = place("device tree", blob, dtbAt);

    const rom = resetVector({ start, dtb: dtbAt, next, xlen: this.xlen });
    this.bus.addRom("mrom", this.board.mrom.base, rom, this.board.mrom.size);
    layout.start = start;
    return layout as BootLayout;
  }

  /** The device tree generated from the board table (without /chosen boot arguments). */
  deviceTree(): DeviceTree {
    return this.xlen === 64
      ? buildDeviceTree(this.board, { isa: ISA_STRING, mmuType: "riscv,sv48" })
      : buildDeviceTree(this.board, { isa: ISA_STRING_RV32, mmuType: "riscv,sv32" });
  }

  /** Runs until poweroff, `maxInstructions`, or an idle hart nothing can wake. */
  runSync(maxInstructions?: number): ExitStatus | undefined {
    this.loop.runSync(maxInstructions);
    return this.exit;
  }

  /** Runs until the guest powers off (needs `host` services). */
  async run(): Promise<ExitStatus> {
    await this.loop.run();
    return this.exit ?? { code: 0, reset: false };
  }
}
