// The console harness against a host shell standing in for a VM: an
// interactive `sh` whose prompt ends like BusyBox's (with a cursor-position
// query) and whose `poweroff` exits with a known code.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "./support/files.js";
import { bootLinux, type LinuxConsole } from "./support/linux-console.js";

function fakeVm(): { command: string; args: string[] } {
  const env = join(tempDir("boot-harness-"), "env");
  writeFileSync(env, `PS1="$(printf '~ # \\033[6n')"\npoweroff() { exit 7; }\n`);
  return { command: "sh", args: ["-c", `echo booting; ENV='${env}' exec sh -i`] };
}

let vm: LinuxConsole | undefined;
afterEach(() => vm?.kill());

describe("bootLinux", () => {
  it("waits for the prompt, captures each command's output and status, and returns the power-off exit code", async () => {
    vm = await bootLinux({ ...fakeVm(), quietKernel: false });
    expect(vm.bootLog).toContain("booting\n");
    expect(vm.bootMs).toBeGreaterThan(0);
    expect(await vm.run("printf 'a\\nb\\n'")).toEqual({ output: "a\nb", status: 0 });
    expect(await vm.run("printf abc")).toEqual({ output: "abc", status: 0 });
    expect(await vm.run("echo x; false")).toEqual({ output: "x", status: 1 });
    expect(await vm.run("echo @@backplane-end-9-0@@; (exit 4)")).toEqual({
      output: "@@backplane-end-9-0@@",
      status: 4,
    });
    expect(await vm.run("true")).toEqual({ output: "", status: 0 });
    expect(await vm.poweroff()).toBe(7);
  });

  it("fails with the console tail when the VM exits or the prompt never comes", async () => {
    await expect(bootLinux({ command: "sh", args: ["-c", "echo oops; exit 3"] })).rejects.toThrow(
      "VM exited (code 3, signal null) while waiting for the shell prompt; console:\noops\n",
    );
    await expect(
      bootLinux({ command: "sh", args: ["-c", "echo slow; exec sleep 30"], bootTimeoutMs: 300 }),
    ).rejects.toThrow("timed out after 300 ms waiting for the shell prompt; console:\nslow\n");
  });

  it("fails with the console tail when a command does not finish", async () => {
    vm = await bootLinux({ ...fakeVm(), quietKernel: false, commandTimeoutMs: 300 });
    await expect(vm.run("echo started; sleep 5")).rejects.toThrow(
      /timed out after 300 ms waiting for the end of 'echo started; sleep 5'; console:[\s\S]*started/,
    );
  });
});
