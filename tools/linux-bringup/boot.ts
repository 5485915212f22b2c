/**
 * Linux bring-up driver: boots the cached Debian riscv64 guest on a
 * VirtMachine in virtual time (deterministic) and reports progress.
 *
 *   node --conditions=source --import tsx tools/linux-bringup/boot.ts [options]
 *     --max N          stop after N instructions (default 3e9)
 *     --every N        print pc/priv to stderr every N instructions (default 50e6)
 *     --append STR     kernel command line (default 'console=ttyS0 earlycon=sbi')
 *     --trace-from N   from instruction N on, print every pc (stderr)
 *     --trace-count N  how many instructions to trace (default 200)
 *     --ns N           ns per instruction (default 10)
 *     --dump-at N      dump registers and S CSRs at instruction N
 *     --guest DIR      the cached guest (default ~/.cache/backplane/debian-trixie-riscv64)
 *     --ksyms FILE     kallsyms of the guest kernel (see README.md)
 *
 * Debug output goes to stderr; guest console to stdout.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { VIRT_BOARD, VirtMachine } from "@backplane/machine-riscv-virt";
import { XNAMES } from "@backplane/riscv";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const G = opt("guest", `${homedir()}/.cache/backplane/debian-trixie-riscv64`);
const max = Number(opt("max", "3e9"));
const every = Number(opt("every", "50e6"));
const traceFrom = Number(opt("trace-from", "-1"));
const traceCount = Number(opt("trace-count", "200"));
const dumpAt = Number(opt("dump-at", "-1"));
const append = opt("append", "console=ttyS0 earlycon=sbi");
const input = opt("input", "");

// --input STR is typed at instruction --input-at (default: at once).
const inputAt = Number(opt("input-at", "0"));
let inputBuf = Buffer.alloc(0);
let readable: (() => void) | undefined;
const machine = new VirtMachine({
  board: { ...VIRT_BOARD, ram: { base: VIRT_BOARD.ram.base, size: 256 * 1024 * 1024 } },
  nsPerInstruction: Number(opt("ns", "10")),
  console: {
    write: (bytes) => process.stdout.write(bytes),
    read: (buf: Uint8Array) => {
      if (inputBuf.length === 0) return 0;
      const n = Math.min(buf.length, 1);
      buf.set(inputBuf.subarray(0, n));
      inputBuf = inputBuf.subarray(n);
      return n;
    },
    onReadable: (cb: () => void) => {
      readable = cb;
      return () => {};
    },
  },
});
let inputSent = false;
function maybeType(): void {
  if (inputSent || input === "" || machine.loop.retired < inputAt) return;
  inputSent = true;
  inputBuf = Buffer.from(input.replace(/\\n/g, "\n"));
  readable?.();
}
const layout = machine.boot({
  bios: readFileSync(`${G}/fw_jump.bin`),
  kernel: readFileSync(`${G}/vmlinux-6.12.117+deb13-riscv64`),
  initrd: readFileSync(`${G}/initramfs.cpio.gz`),
  append,
});
process.stderr.write(`layout ${JSON.stringify(layout)}\n`);

const hart = machine.hart;
const hex = (v: bigint | undefined): string => (v === undefined ? "-" : `0x${v.toString(16)}`);
function dump(): void {
  const lines = [
    `pc=${hex(hart.pc)} ${sym(hart.pc)} ra=${sym(BigInt.asUintN(64, hart.getX(1)))} priv=${hart.priv} retired=${machine.loop.retired}`,
  ];
  for (let i = 0; i < 32; i += 4) {
    lines.push(
      [0, 1, 2, 3]
        .map((j) => `${XNAMES[i + j].padStart(4)}=${hex(BigInt.asUintN(64, hart.getX(i + j))).padStart(18)}`)
        .join(" "),
    );
  }
  const csrs: [string, number][] = [
    ["mstatus", 0x300],
    ["mie", 0x304],
    ["mip", 0x344],
    ["mideleg", 0x303],
    ["medeleg", 0x302],
    ["sstatus", 0x100],
    ["sie", 0x104],
    ["sip", 0x144],
    ["stvec", 0x105],
    ["sepc", 0x141],
    ["scause", 0x142],
    ["stval", 0x143],
    ["satp", 0x180],
    ["stimecmp", 0x14d],
    ["mepc", 0x341],
    ["mcause", 0x342],
    ["mtval", 0x343],
    ["time", 0xc01],
    ["menvcfg", 0x30a],
  ];
  lines.push(csrs.map(([n, c]) => `${n}=${hex(hart.readCsr(c))}`).join(" "));
  process.stderr.write(`${lines.join("\n")}\n`);
}

// Ring-buffer tracing: from --ring-from on, remember the last --ring-size
// instructions; stop (and print them) when the pc reaches --stop-pc.
const ringFrom = Number(opt("ring-from", "-1"));
const ringSize = Number(opt("ring-size", "400"));
const stopPc = args.includes("--stop-pc") ? BigInt(opt("stop-pc", "0")) : undefined;
const ring: string[] = [];
class StopHere extends Error {}
function startRing(): void {
  let n = machine.loop.retired;
  (hart as unknown as { traceFn: (pc: bigint, text: string) => void }).traceFn = (pc, text) => {
    ring.push(`${n} ${hex(pc)} p${hart.priv} ${text}  <${sym(pc)}>`);
    n++;
    if (ring.length > ringSize) ring.shift();
    if (pc === stopPc) throw new StopHere();
  };
}
function printRing(): void {
  process.stderr.write(`${ring.join("\n")}\n`);
}

// Symbols from the reference guest's /proc/kallsyms (see README.md).
const symFile = opt("ksyms", `${homedir()}/.cache/backplane/bringup/kallsyms.txt`);
let syms: { addr: bigint; name: string }[] = [];
try {
  syms = readFileSync(symFile, "utf8")
    .split("\n")
    .filter((l) => l.length > 0 && !l.includes(" $") && !l.includes(" .L"))
    .map((l) => {
      const [a, , name] = l.split(/\s+/);
      return { addr: BigInt(`0x${a}`), name };
    })
    .sort((x, y) => (x.addr < y.addr ? -1 : x.addr > y.addr ? 1 : 0));
} catch {}
export function sym(pc: bigint): string {
  let lo = 0;
  let hi = syms.length - 1;
  if (hi < 0 || pc < syms[0].addr) return "?";
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (syms[mid].addr <= pc) lo = mid;
    else hi = mid - 1;
  }
  return `${syms[lo].name}+0x${(pc - syms[lo].addr).toString(16)}`;
}
/** Reads a guest virtual u64 through the current satp (Sv39/Sv48), or undefined. */
function readVirt64(va: bigint): bigint | undefined {
  const satp = hart.readCsr(0x180) ?? 0n;
  const mode = Number(satp >> 60n);
  const ramBase = BigInt(VIRT_BOARD.ram.base);
  const bytes = machine.ram.bytes;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phys = (pa: bigint): bigint | undefined => {
    const off = Number(pa - ramBase);
    return off >= 0 && off + 8 <= bytes.length ? dv.getBigUint64(off, true) : undefined;
  };
  if (mode === 0) return phys(va);
  const levels = mode === 9 ? 4 : 3;
  let table = (satp & ((1n << 44n) - 1n)) << 12n;
  for (let level = levels - 1; level >= 0; level--) {
    const idx = (va >> BigInt(12 + 9 * level)) & 511n;
    const pte = phys(table + idx * 8n);
    if (pte === undefined || (pte & 1n) === 0n) return undefined;
    const ppn = (pte >> 10n) & ((1n << 44n) - 1n);
    if ((pte & 0xen) !== 0n) {
      const mask = (1n << BigInt(12 + 9 * level)) - 1n;
      return phys(((ppn << 12n) & ~mask) | (va & mask));
    }
    table = ppn << 12n;
  }
  return undefined;
}
function backtrace(depth = 12): string[] {
  const out = [sym(hart.pc), sym(BigInt.asUintN(64, hart.getX(1)))];
  let fp = BigInt.asUintN(64, hart.getX(8));
  for (let i = 0; i < depth; i++) {
    const ra = readVirt64(fp - 8n);
    const prev = readVirt64(fp - 16n);
    if (ra === undefined || prev === undefined || ra < 0xffffffff00000000n) break;
    out.push(sym(ra));
    fp = prev;
  }
  return out;
}
const btAt = Number(opt("bt-every", "0"));
// PC sampling: from --profile-from on, sample the pc every --profile-step
// instructions and print a histogram of functions at each report.
const profileFrom = Number(opt("profile-from", "-1"));
const profileStep = Number(opt("profile-step", "10000"));
const profile = new Map<string, number>();

const t0 = performance.now();
let nextReport = every;
let tracing = false;
let traced = 0;
for (;;) {
  const done = machine.loop.retired;
  if (done >= max) break;
  maybeType();
  let chunk = Math.min(nextReport - done, max - done);
  if (!inputSent && input !== "") chunk = Math.min(chunk, Math.max(1, inputAt - done));
  if (inputBuf.length > 0) chunk = Math.min(chunk, 100_000);
  if (traceFrom >= 0 && done < traceFrom) chunk = Math.min(chunk, traceFrom - done);
  if (dumpAt >= 0 && done < dumpAt) chunk = Math.min(chunk, dumpAt - done);
  if (traceFrom >= 0 && done >= traceFrom && traced < traceCount) {
    if (!tracing) tracing = true;
    const pc = hart.pc;
    const priv = hart.priv;
    const before = machine.loop.retired;
    const r = machine.runSync(1);
    traced++;
    process.stderr.write(
      `T ${before} ${hex(pc)} p${priv} a0=${hex(BigInt.asUintN(64, hart.getX(10)))} sp=${hex(BigInt.asUintN(64, hart.getX(2)))}\n`,
    );
    if (r !== undefined) break;
    continue;
  }
  if (profileFrom >= 0 && done >= profileFrom) {
    chunk = Math.min(chunk, profileStep);
    const name =
      btAt > 0
        ? hart.priv === 1
          ? backtrace(40)
              .slice(-5)
              .map((f) => f.replace(/\+0x[0-9a-f]+$/, ""))
              .join(" < ")
          : `priv${hart.priv}`
        : sym(hart.pc).replace(/\+0x[0-9a-f]+$/, "");
    profile.set(name, (profile.get(name) ?? 0) + 1);
  }
  if (profileFrom >= 0 && done < profileFrom) chunk = Math.min(chunk, profileFrom - done);
  if (ringFrom >= 0 && done < ringFrom) chunk = Math.min(chunk, ringFrom - done);
  if (ringFrom >= 0 && done === ringFrom) startRing();
  let status: string;
  try {
    status = machine.loop.runSync(chunk);
  } catch (e) {
    if (!(e instanceof StopHere)) throw e;
    printRing();
    dump();
    break;
  }
  if (machine.loop.retired === dumpAt) dump();
  if (machine.exitStatus !== undefined || status === "stopped") break;
  if (inputBuf.length > 0) readable?.();
  if (status === "idle" && !inputSent && input !== "") {
    process.stderr.write(`idle at ${machine.loop.retired}: typing the input now\n`);
    inputSent = true;
    inputBuf = Buffer.from(input.replace(/\\n/g, "\n"));
    readable?.();
    continue;
  }
  if (status === "idle") {
    process.stderr.write(`idle at ${machine.loop.retired}\n`);
    dump();
    break;
  }
  if (machine.loop.retired >= nextReport) {
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(
      `[${(machine.loop.retired / 1e6).toFixed(0)}M ${s.toFixed(0)}s] pc=${hex(hart.pc)} ${sym(hart.pc)} priv=${hart.priv}\n`,
    );
    if (btAt > 0 && hart.priv === 1) process.stderr.write(`  bt: ${backtrace().join(" < ")}\n`);
    if (profile.size > 0) {
      const top = [...profile].sort((a, b) => b[1] - a[1]).slice(0, Number(opt("top", "15")));
      process.stderr.write(`${top.map(([n, c]) => `  ${c} ${n}`).join("\n")}\n`);
      profile.clear();
    }
    nextReport += every;
  }
}
dump();
process.stderr.write(
  `exit ${JSON.stringify(machine.exitStatus)} after ${machine.loop.retired} in ${((performance.now() - t0) / 1000).toFixed(1)}s\n`,
);
