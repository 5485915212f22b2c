// Boots Debian's OpenSBI (fw_jump) on the hart with minimal fake devices at
// QEMU virt's addresses and QEMU's own device tree, then runs a tiny S-mode
// payload that prints through the legacy SBI console and powers off through
// SBI SRST. OpenSBI exercises M-mode CSRs, trap-based CSR probing, PMP,
// delegation, MRET into S-mode and the CLINT timer.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MmioDevice, NarrowWidth } from "@backplane/core";
import { AddressSpace } from "@backplane/memory";
import { describe, expect, it } from "vitest";
import { Hart, IRQ_M_SOFT, IRQ_M_TIMER, loadElf } from "../../src/index.js";
import { assemble, HAVE_TOOLCHAIN } from "./harness.js";

const FW = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
const QEMU = "qemu-system-riscv64";

function haveQemu(): boolean {
  try {
    execFileSync(QEMU, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
function haveDtc(): boolean {
  try {
    execFileSync("dtc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const READY = HAVE_TOOLCHAIN && existsSync(FW) && haveQemu() && haveDtc();
const why = READY
  ? ""
  : " (skipped: needs opensbi, qemu-system-misc, device-tree-compiler and riscv64 binutils)";

/** QEMU virt's device tree for one hart and 128 MiB. */
function qemuDtb(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "bp-dtb-"));
  try {
    const file = join(dir, "virt.dtb");
    execFileSync(
      QEMU,
      ["-M", `virt,dumpdtb=${file}`, "-m", "128M", "-smp", "1", "-nographic", "-bios", "none"],
      {
        stdio: "ignore",
      },
    );
    // QEMU pads the blob to 1 MiB; dtc rewrites it at its natural size so OpenSBI copies less.
    return new Uint8Array(
      execFileSync("dtc", ["-I", "dtb", "-O", "dtb", file], { stdio: ["ignore", "pipe", "ignore"] }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Just enough of a 16550 for OpenSBI's uart8250 driver: THR capture, LSR always ready. */
class FakeUart implements MmioDevice {
  readonly size = 0x100;
  readonly widths: readonly NarrowWidth[] = [1];
  out = "";
  private lcr = 0;
  read(offset: number): number {
    if (offset === 5) return 0x60; // LSR: THRE | TEMT
    if (offset === 3) return this.lcr;
    return 0;
  }
  write(offset: number, _w: NarrowWidth, value: number): void {
    if (offset === 3) this.lcr = value;
    else if (offset === 0 && (this.lcr & 0x80) === 0) this.out += String.fromCharCode(value);
  }
}

/** A CLINT (msip, mtimecmp, mtime) whose mtime advances by 10 ticks per read. */
class FakeClint implements MmioDevice {
  readonly size = 0x10000;
  readonly widths: readonly NarrowWidth[] = [4];
  mtime = 0n;
  mtimecmp = (1n << 64n) - 1n;
  msip = 0;
  constructor(
    private readonly timer: { setLevel(h: boolean): void },
    private readonly soft: { setLevel(h: boolean): void },
  ) {}
  update(): void {
    this.timer.setLevel(this.mtime >= this.mtimecmp);
    this.soft.setLevel((this.msip & 1) !== 0);
  }
  read64(offset: number): bigint {
    if (offset === 0xbff8) {
      this.mtime += 10n;
      this.update();
      return this.mtime;
    }
    return offset === 0x4000 ? this.mtimecmp : 0n;
  }
  write64(offset: number, value: bigint): void {
    if (offset === 0x4000) this.mtimecmp = value;
    this.update();
  }
  read(offset: number): number {
    if (offset === 0) return this.msip;
    const v = offset >= 0xbff8 ? this.read64(0xbff8) : this.mtimecmp;
    return Number((offset & 4 ? v >> 32n : v) & 0xffffffffn);
  }
  write(offset: number, _w: NarrowWidth, value: number): void {
    if (offset === 0) this.msip = value & 1;
    else if (offset === 0x4000) this.mtimecmp = (this.mtimecmp & ~0xffffffffn) | BigInt(value >>> 0);
    else if (offset === 0x4004) this.mtimecmp = (this.mtimecmp & 0xffffffffn) | (BigInt(value >>> 0) << 32n);
    this.update();
  }
}

/** A device that just remembers 32-bit registers (the PLIC, as far as OpenSBI's init goes). */
class Registers implements MmioDevice {
  readonly widths: readonly NarrowWidth[] = [4];
  private readonly regs = new Map<number, number>();
  constructor(readonly size: number) {}
  read(offset: number): number {
    return this.regs.get(offset) ?? 0;
  }
  write(offset: number, _w: NarrowWidth, value: number): void {
    this.regs.set(offset, value);
  }
}

/** sifive,test: records the value written (0x5555 = poweroff). */
class FakeTest implements MmioDevice {
  readonly size = 0x1000;
  readonly widths: readonly NarrowWidth[] = [4];
  written: number | undefined;
  read(): number {
    return 0;
  }
  write(_o: number, _w: NarrowWidth, value: number): void {
    this.written = value;
  }
}

describe.skipIf(!READY)(`OpenSBI 1.1 fw_jump boot${why}`, () => {
  it("prints the OpenSBI banner, runs an S-mode payload and powers off via SBI", () => {
    const bus = new AddressSpace();
    const ram = bus.addRam("dram", 0x8000_0000, 128 << 20);
    const uart = new FakeUart();
    const test = new FakeTest();
    bus.addDevice("uart", 0x1000_0000, uart);
    bus.addDevice("plic", 0x0c00_0000, new Registers(0x60_0000));
    bus.addDevice("test", 0x10_0000, test);
    const fw = new Uint8Array(readFileSync(FW));
    ram.bytes.set(fw, 0);
    const dtb = qemuDtb();
    const dtbAddr = 0x8700_0000;
    ram.bytes.set(dtb, dtbAddr - 0x8000_0000);
    // S-mode payload at fw_jump's FW_JUMP_ADDR
    const payload = assemble(`
      la s0, msg
    1:lbu a0, 0(s0)
      beqz a0, 2f
      li a7, 1                # legacy SBI console putchar
      ecall
      addi s0, s0, 1
      j 1b
    2:li a7, 0x53525354       # SRST: shutdown
      li a6, 0
      li a0, 0
      li a1, 0
      ecall
    3:j 3b
    msg: .asciz "hello from S-mode\\n"
    `);
    let clint: FakeClint | undefined;
    const hart = new Hart({ bus, resetPc: 0x8000_0000, time: () => clint?.mtime ?? 0n });
    clint = new FakeClint(hart.irqLine(IRQ_M_TIMER), hart.irqLine(IRQ_M_SOFT));
    bus.addDevice("clint", 0x200_0000, clint);
    // Place the payload: the assembled ELF is linked at 0x80000000; copy its text to 0x80200000.
    const tmp = new AddressSpace();
    const scratch = tmp.addRam("scratch", 0x8000_0000, 1 << 20);
    loadElf(tmp, payload);
    ram.bytes.set(scratch.bytes.subarray(0, 4096), 0x20_0000);
    hart.setX(10, 0n);
    hart.setX(11, BigInt(dtbAddr));
    let steps = 0;
    while (test.written === undefined && steps < 20_000_000) {
      const r = hart.run(100_000);
      steps += r.executed;
      if (r.waiting) clint.mtime += 10_000n;
      clint.update();
    }
    expect(uart.out).toContain("OpenSBI v1.1");
    expect(uart.out).toContain("Platform Name             : riscv-virtio,qemu");
    expect(uart.out).toContain("Boot HART Base ISA        : rv64imafdc");
    expect(uart.out).toContain("hello from S-mode\r\n"); // OpenSBI's console adds the \r
    expect(test.written).toBe(0x5555);
  });
});
