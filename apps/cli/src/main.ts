/**
 * `backplane` — command dispatcher. Each subcommand lives in its own folder and
 * exports `main(argv): Promise<number>` returning the process exit code.
 */
import { BackplaneError } from "@backplane/core";

type Command = { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  guest: {
    summary: "fetch the Debian riscv64 guest (kernel, firmware, initramfs)",
    load: () => import("./guest/index.js"),
  },
  run: { summary: "run a virtual machine (QEMU-style flags)", load: () => import("./run/index.js") },
  img: {
    summary: "create, inspect, check and convert disk images (qemu-img style)",
    load: () => import("./img/index.js"),
  },
  switch: {
    summary: "a virtual Ethernet switch for VMs on '-netdev socket,connect=...'",
    load: () => import("./switch/index.js"),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)}${c.summary}`);
  return `usage: backplane <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? 1 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`backplane: unknown command '${name}'\n${usage()}`);
    return 1;
  }
  return (await command.load()).main(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof BackplaneError) {
      process.stderr.write(`backplane: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  },
);
