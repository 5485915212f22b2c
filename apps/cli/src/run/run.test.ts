/**
 * `backplane run` end to end: the CLI boots a bare-metal test ELF with QEMU's
 * flags, the guest's UART output reaches stdout, and the exit status follows
 * the SiFive test device (0 on pass, the failure code otherwise); bad flags
 * and images fail with a message and status 1.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildProgram,
  GCC,
  haveTool,
  missingTools,
  PROGRAMS_DIR,
  QEMU64,
  runQemu,
} from "@backplane/machine-riscv-virt/testing";
import { describe, expect, it } from "vitest";
import { parseSize } from "./args.js";

const MAIN = join(import.meta.dirname, "../main.ts");

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, "run", ...args], {
    encoding: "latin1",
    input: "",
    timeout: 60_000,
  });
}

const noGcc = missingTools(GCC);
describe.skipIf(noGcc !== undefined)(
  `backplane run with a test ELF${noGcc ? ` (skipped: ${noGcc})` : ""}`,
  () => {
    it("passes a self-checking program with status 0", () => {
      const elf = buildProgram(join(PROGRAMS_DIR, "m.S")).elf;
      const r = cli("-M", "virt", "-m", "128M", "-smp", "1", "-nographic", "-bios", "none", "-kernel", elf);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("mulhu=091a2b3c4d5e6f78\n");
      expect(r.status).toBe(0);
    });

    it("exits with the test device's failure code, as QEMU does", async () => {
      const elf = buildProgram(join(import.meta.dirname, "testdata/exit42.S")).elf;
      const r = cli("-nographic", "-serial", "stdio", "-bios", "none", "-kernel", elf, "-icount", "shift=0");
      expect(r.stdout).toBe("hello from the guest\n");
      expect(r.status).toBe(42);
      if (missingTools(QEMU64) === undefined) {
        expect(await runQemu(elf, 64)).toEqual({ output: r.stdout, exitCode: r.status });
      }
    });
  },
);

const noTty = missingTools(GCC) ?? (haveTool("script") ? undefined : "script (util-linux) not installed");
describe.skipIf(noTty !== undefined)(
  `backplane run on a terminal${noTty ? ` (skipped: ${noTty})` : ""}`,
  () => {
    it("prints the key help on Ctrl-A h and quits with status 0 on Ctrl-A x", async () => {
      const elf = buildProgram(join(import.meta.dirname, "testdata/spin.S")).elf;
      const command = [
        process.execPath,
        "--conditions=source",
        "--import",
        "tsx",
        MAIN,
        "run",
        "-bios",
        "none",
        "-nographic",
        "-kernel",
        elf,
      ];
      // script(1) gives the CLI a pseudo-terminal as stdin/stdout.
      const child = spawn("script", ["-qec", command.join(" "), "/dev/null"], {
        stdio: ["pipe", "pipe", "inherit"],
      });
      let out = "";
      let helped = false;
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString("latin1");
        if (out.includes("spinning") && !helped) {
          helped = true;
          child.stdin.write("\x01h");
        }
        if (out.includes("exit emulator")) child.stdin.write("\x01x");
      });
      const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect(out).toContain("spinning");
      expect(out).toContain("C-a x    exit emulator");
      expect(status).toBe(0);
    });
  },
);

const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
const noSbi = existsSync(FW_JUMP)
  ? missingTools(GCC, QEMU64)
  : `${FW_JUMP} not installed (Debian package opensbi)`;
describe.skipIf(noSbi !== undefined)(
  `backplane run -bios fw_jump.bin -kernel${noSbi ? ` (skipped: ${noSbi})` : ""}`,
  () => {
    it("boots OpenSBI, which enters the kernel at 0x80200000 with a0 = hart id and a1 = a DTB, as on QEMU", async () => {
      const elf = buildProgram(join(import.meta.dirname, "testdata/sbi_kernel.S"), undefined, {
        runtime: false,
      }).elf;
      const image = join(mkdtempSync(join(tmpdir(), "bp-sbi-")), "Image");
      execFileSync("riscv64-unknown-elf-objcopy", ["-O", "binary", elf, image]);
      const flags = ["-M", "virt", "-m", "128M", "-nographic", "-bios", FW_JUMP, "-kernel", image];
      const ours = cli(...flags, "-icount", "shift=3");
      const peer = spawnSync(QEMU64, flags, { encoding: "latin1", timeout: 20_000 });
      const tail = (out: string) => out.slice(out.indexOf("hart="));
      // fw_jump copies the DTB it got in a1 (0x87e00000) to its build-time FW_JUMP_FDT_ADDR; the SBI console adds \r.
      expect(tail(ours.stdout)).toBe(
        "hart=0000000000000000\r\ndtb=0000000082200000\r\nmagic=00000000edfe0dd0\r\n",
      );
      expect(tail(ours.stdout)).toBe(tail(peer.stdout));
      expect(ours.stdout).toContain("Domain0 Next Address      : 0x0000000080200000");
      expect(ours.status).toBe(0);
      expect(peer.status).toBe(0);
    });
  },
);

describe("backplane run errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "bp-run-"));
  const cases: [string, string[], RegExp][] = [
    ["an unknown flag", ["-bios", "none", "-frobnicate"], /unknown option '-frobnicate'/],
    ["a flag without its value", ["-kernel"], /option -kernel needs an argument/],
    ["a malformed size", ["-m", "lots"], /invalid RAM size 'lots'/],
    ["another machine", ["-M", "sifive_u"], /unsupported machine type 'sifive_u'/],
    ["two harts", ["-smp", "2"], /only one hart/],
    ["a missing kernel", ["-bios", "none", "-kernel", join(dir, "nope.elf")], /could not load kernel/],
  ];
  for (const [what, args, message] of cases) {
    it(`rejects ${what}`, () => {
      const r = cli(...args);
      expect(r.stderr).toMatch(message);
      expect(r.status).toBe(1);
    });
  }

  it("rejects a non-RISC-V image and a kernel larger than RAM", () => {
    const arm64 = new Uint8Array(4096);
    arm64.set([0x41, 0x52, 0x4d, 0x64], 56);
    writeFileSync(join(dir, "arm64.Image"), arm64);
    let r = cli("-bios", "none", "-kernel", join(dir, "arm64.Image"));
    expect(r.stderr).toMatch(/arm64 Linux Image, not a RISC-V one/);
    expect(r.status).toBe(1);
    writeFileSync(join(dir, "big.bin"), new Uint8Array(3 * 1024 * 1024));
    r = cli("-bios", "none", "-m", "2M", "-kernel", join(dir, "big.bin"));
    expect(r.stderr).toMatch(/does not fit in 2 MiB of RAM/);
    expect(r.status).toBe(1);
  });

  it("parses QEMU's size syntax", () => {
    expect(parseSize("128M")).toBe(128 * 1024 * 1024);
    expect(parseSize("1G")).toBe(1024 * 1024 * 1024);
    expect(parseSize("256")).toBe(256 * 1024 * 1024);
    expect(parseSize("64k")).toBe(64 * 1024);
  });
});
