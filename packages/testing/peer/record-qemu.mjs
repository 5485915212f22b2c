#!/usr/bin/env node
// Records QEMU's answers to a device access script, for peer tests.
//
//   node record-qemu.mjs <script.json> <fixture.json>
//
// script.json: { "description": "...", "ops": [op...] } where op is
//   ["w", addr, width, value]  write (addresses are absolute on QEMU virt)
//   ["r", addr, width]         read, recorded
//   ["mip"]                    sample the mip CSR, recorded
// Values may be numbers or "0x..." strings. The fixture gets the script plus
// "results" (hex strings, one per recorded op), "finished" (false when the
// script powered the machine off), QEMU's "exitStatus" and the QEMU version.
// Needs qemu-system-riscv64 and riscv64-unknown-elf-gcc (Debian packages
// qemu-system-misc and gcc-riscv64-unknown-elf).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [scriptPath, fixturePath] = process.argv.slice(2);
if (!scriptPath || !fixturePath) {
  console.error("usage: record-qemu.mjs <script.json> <fixture.json>");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const script = JSON.parse(readFileSync(scriptPath, "utf8"));
const big = (v) => BigInt(v);
const lines = script.ops.map((op) => {
  if (op[0] === "w")
    return `{0, ${op[2]}, 0x${big(op[1]).toString(16)}ULL, 0x${big(op[3]).toString(16)}ULL},`;
  if (op[0] === "r") return `{1, ${op[2]}, 0x${big(op[1]).toString(16)}ULL, 0},`;
  if (op[0] === "mip") return "{2, 0, 0, 0},";
  throw new Error(`bad op ${JSON.stringify(op)}`);
});
const dir = mkdtempSync(join(tmpdir(), "peer-"));
try {
  writeFileSync(join(dir, "ops.h"), `static const struct op ops[] = {\n${lines.join("\n")}\n};\n`);
  const elf = join(dir, "probe.elf");
  execFileSync("riscv64-unknown-elf-gcc", [
    "-march=rv64imac_zicsr",
    "-mabi=lp64",
    "-mcmodel=medany",
    "-O1",
    "-nostdlib",
    "-ffreestanding",
    "-T",
    join(here, "link.ld"),
    "-I",
    dir,
    join(here, "start.S"),
    join(here, "probe.c"),
    "-o",
    elf,
  ]);
  const run = spawnSync(
    "qemu-system-riscv64",
    ["-M", "virt", "-smp", "1", "-m", "64M", "-bios", "none", "-display", "none"].concat([
      "-serial",
      "stdio",
      "-monitor",
      "none",
      "-kernel",
      elf,
    ]),
    { timeout: 30_000, encoding: "latin1" },
  );
  if (run.status === null) throw new Error(`QEMU did not exit: ${run.error ?? run.signal}`);
  const out = run.stdout;
  const results = [...out.matchAll(/^R ([0-9a-f]{16})$/gm)].map((m) => `0x${m[1]}`);
  // A script may power the machine off itself (the test finisher): then there is
  // no END line and QEMU's exit status is the answer.
  const finished = /^END$/m.test(out);
  const version = execFileSync("qemu-system-riscv64", ["--version"], { encoding: "utf8" }).split("\n")[0];
  const fixture = { ...script, peer: version, results, finished, exitStatus: run.status };
  writeFileSync(fixturePath, `${JSON.stringify(fixture, null, 1)}\n`);
  console.log(`${results.length} results, exit status ${run.status}, from ${version}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
