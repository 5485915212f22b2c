/**
 * Device tree generation from the board table, with the node names,
 * properties and phandle order QEMU 7.2's `virt` board uses
 * (`qemu-system-riscv64 -M virt,dumpdtb=virt.dtb`), per the Devicetree
 * Specification v0.4 and the Linux bindings for each device
 * (riscv/cpus.yaml, sifive,plic-1.0.0, sifive,clint0, ns16550a,
 * google,goldfish-rtc, syscon-poweroff/-reboot, virtio,mmio).
 *
 * Deviation: QEMU's nodes for devices Backplane does not model (fw-cfg,
 * flash, PCIe, platform-bus, PMU) and `/chosen/rng-seed` are not generated.
 * Every virtio-mmio slot gets a node, populated or not, highest address
 * first as in QEMU's tree (Linux probes them in that order).
 */
import { cells, DeviceTree, type FdtNode } from "@backplane/fdt";
import { type Board, devicesOf } from "./board.js";

/** Interrupt cause numbers of the hart-local interrupt controller (privileged spec 3.1.9). */
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;
const IRQ_M_EXT = 11;
/** The CLINT's MTIME rate on QEMU virt. */
const TIMEBASE_FREQUENCY = 10_000_000;

/** What the tree says about the hart and the boot. */
export interface DeviceTreeOptions {
  /** The `riscv,isa` string of the hart. */
  isa: string;
  /** The `mmu-type` of the hart (e.g. "riscv,sv48"). */
  mmuType: string;
  /** Kernel command line (`/chosen/bootargs`). */
  bootargs?: string;
  /** Initrd location in guest-physical memory (`/chosen/linux,initrd-start/-end`). */
  initrd?: { start: number; end: number };
}

const hex = (n: number): string => n.toString(16);
const reg64 = (base: number, size: number): Uint8Array => cells(BigInt(base), BigInt(size));

/** Builds the device tree for `board`. */
export function buildDeviceTree(board: Board, options: DeviceTreeOptions): DeviceTree {
  const tree = new DeviceTree();
  const root = tree.root;
  root
    .set("#address-cells", 2)
    .set("#size-cells", 2)
    .set("compatible", "riscv-virtio")
    .set("model", "riscv-virtio,qemu");

  // cpus first, so the cpu and its interrupt controller get phandles 1 and 2 as on QEMU
  const cpus = root.add("cpus");
  cpus.set("#address-cells", 1).set("#size-cells", 0).set("timebase-frequency", TIMEBASE_FREQUENCY);
  const cpu = cpus.add("cpu@0");
  const cpuPhandle = tree.phandle(cpu);
  cpu
    .set("device_type", "cpu")
    .set("reg", 0)
    .set("status", "okay")
    .set("compatible", "riscv")
    .set("riscv,isa", options.isa)
    .set("mmu-type", options.mmuType);
  const intc = cpu.add("interrupt-controller");
  intc.set("#interrupt-cells", 1).set("interrupt-controller").set("compatible", "riscv,cpu-intc");
  const intcPhandle = tree.phandle(intc);
  cpus.add("cpu-map").add("cluster0").add("core0").set("cpu", cpuPhandle);

  const memory = root.add(`memory@${hex(board.ram.base)}`);
  memory.set("device_type", "memory").set("reg", reg64(board.ram.base, board.ram.size));

  const soc = root.add("soc");
  soc.set("#address-cells", 2).set("#size-cells", 2).set("compatible", "simple-bus").set("ranges");

  let plicPhandle: number | undefined;
  for (const plic of devicesOf(board, "plic")) {
    const node = soc.add(`plic@${hex(plic.base)}`);
    plicPhandle = tree.phandle(node);
    node
      .set("riscv,ndev", plic.sources)
      .set("reg", reg64(plic.base, plic.size))
      .set("interrupts-extended", cells(intcPhandle, IRQ_M_EXT, intcPhandle, IRQ_S_EXT))
      .set("interrupt-controller")
      .set("compatible", ["sifive,plic-1.0.0", "riscv,plic0"])
      .set("#address-cells", 0)
      .set("#interrupt-cells", 1);
  }
  const interrupt = (node: FdtNode, irq: number): void => {
    if (plicPhandle !== undefined) node.set("interrupts", irq).set("interrupt-parent", plicPhandle);
  };

  for (const clint of devicesOf(board, "clint")) {
    soc
      .add(`clint@${hex(clint.base)}`)
      .set("interrupts-extended", cells(intcPhandle, IRQ_M_SOFT, intcPhandle, IRQ_M_TIMER))
      .set("reg", reg64(clint.base, clint.size))
      .set("compatible", ["sifive,clint0", "riscv,clint0"]);
  }
  for (const rtc of devicesOf(board, "goldfish-rtc")) {
    const node = soc.add(`rtc@${hex(rtc.base)}`);
    interrupt(node, rtc.irq);
    node.set("reg", reg64(rtc.base, rtc.size)).set("compatible", "google,goldfish-rtc");
  }
  const uarts = devicesOf(board, "uart16550");
  for (const uart of uarts) {
    const node = soc.add(`serial@${hex(uart.base)}`);
    interrupt(node, uart.irq);
    node
      .set("clock-frequency", uart.clockFrequency)
      .set("reg", reg64(uart.base, uart.size))
      .set("compatible", "ns16550a");
  }
  for (const slot of devicesOf(board, "virtio-mmio").reverse()) {
    const node = soc.add(`virtio_mmio@${hex(slot.base)}`);
    interrupt(node, slot.irq);
    node.set("reg", reg64(slot.base, slot.size)).set("compatible", "virtio,mmio");
  }
  for (const test of devicesOf(board, "syscon")) {
    const node = soc.add(`test@${hex(test.base)}`);
    const phandle = tree.phandle(node);
    node
      .set("reg", reg64(test.base, test.size))
      .set("compatible", ["sifive,test1", "sifive,test0", "syscon"]);
    root
      .add("poweroff")
      .set("value", 0x5555)
      .set("offset", 0)
      .set("regmap", phandle)
      .set("compatible", "syscon-poweroff");
    root
      .add("reboot")
      .set("value", 0x7777)
      .set("offset", 0)
      .set("regmap", phandle)
      .set("compatible", "syscon-reboot");
  }

  const chosen = root.add("chosen");
  if (uarts.length > 0) chosen.set("stdout-path", `/soc/serial@${hex(uarts[0].base)}`);
  setChosen(tree, options);
  return tree;
}

/** Sets `/chosen/bootargs` and the initrd range (also on a user-supplied tree, as QEMU does with -dtb). */
export function setChosen(tree: DeviceTree, options: Pick<DeviceTreeOptions, "bootargs" | "initrd">): void {
  const chosen = tree.find("/chosen") ?? tree.root.add("chosen");
  if (options.bootargs) chosen.set("bootargs", options.bootargs);
  if (options.initrd) {
    // One cell when the address fits, as QEMU writes them; two above 4 GiB.
    const cell = (address: number): number | bigint => (address < 2 ** 32 ? address : BigInt(address));
    chosen
      .set("linux,initrd-start", cell(options.initrd.start))
      .set("linux,initrd-end", cell(options.initrd.end));
  }
}
