/**
 * `backplane img` — a drop-in for qemu-img's common uses (QEMU 7.2
 * docs/tools/qemu-img.rst): create, info, check, convert, compare, map,
 * resize, snapshot, rebase, commit and measure, with qemu-img's flags, JSON
 * field names and exit codes. Commands reach format drivers only through the
 * `DiskFormat`/`DiskImage` contract of @backplane/disk.
 *
 * Deviation: no `--image-opts`/`--object` (refused with a clear error), no
 * `bench`, `bitmap`, `amend` or `dd`; error lines start with
 * "backplane img:" instead of "qemu-img:".
 */
import { BackplaneError, UnsupportedError } from "@backplane/core";
import { UsageError } from "./args.js";
import { type Io, PROG } from "./common.js";
import { compare } from "./compare.js";
import { commit, convert, rebase } from "./convert.js";
import { create } from "./create.js";
import { registerAllFormats } from "./formats.js";
import { check, info, map } from "./info.js";
import { measure, resize, snapshot } from "./misc.js";

type Command = { run(argv: string[], io: Io): Promise<number>; usage: string };

const COMMANDS: Record<string, Command> = {
  create: {
    run: create,
    usage: "create [-f fmt] [-o options] [-b backing_file [-F backing_fmt]] [-u] [-q] filename [size]",
  },
  info: { run: info, usage: "info [-f fmt] [--output=human|json] [--backing-chain] filename" },
  check: { run: check, usage: "check [-f fmt] [--output=human|json] [-r leaks|all] [-q] filename" },
  convert: {
    run: convert,
    usage:
      "convert [-f fmt] [-O output_fmt] [-c] [-o options] [-S sparse_size] [-p] [-n] [-q] filename output_filename",
  },
  compare: { run: compare, usage: "compare [-f fmt] [-F fmt] [-s] [-q] filename1 filename2" },
  map: {
    run: map,
    usage: "map [-f fmt] [--output=human|json] [--start-offset=offset] [--max-length=len] filename",
  },
  resize: { run: resize, usage: "resize [-f fmt] [--shrink] [-q] filename [+|-]size" },
  snapshot: { run: snapshot, usage: "snapshot [-l | -a snapshot | -c snapshot | -d snapshot] [-q] filename" },
  rebase: { run: rebase, usage: "rebase [-f fmt] [-u] -b backing_file [-F backing_fmt] [-p] [-q] filename" },
  commit: { run: commit, usage: "commit [-f fmt] [-b base] [-p] [-q] filename" },
  measure: {
    run: measure,
    usage: "measure [--output=human|json] [-O output_fmt] [-o options] [--size N | [-f fmt] filename]",
  },
};

function help(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage}`);
  return `usage: ${PROG} <command> [command options]\nQEMU disk image utility, Backplane edition\n\nCommand syntax:\n${lines.join("\n")}\n`;
}

const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Runs `backplane img <argv>`; returns the exit status. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  registerAllFormats();
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(`${PROG}: Not enough arguments\nTry '${PROG} --help' for more information\n`);
    return 1;
  }
  if (name === "-h" || name === "--help" || name === "help") {
    io.out(help());
    return 0;
  }
  if (name === "-V" || name === "--version") {
    io.out("backplane img (qemu-img compatible, QEMU 7.2 command line)\n");
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`${PROG}: Command not found: ${name}\nTry '${PROG} --help' for more information\n`);
    return 1;
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    io.out(`usage: ${PROG} ${command.usage}\n`);
    return 0;
  }
  try {
    const end = rest.indexOf("--");
    const unsupported = (end < 0 ? rest : rest.slice(0, end)).find((a) =>
      /^--(image-opts|target-image-opts|object)(=|$)/.test(a),
    );
    if (unsupported) throw new UnsupportedError(`${unsupported.split("=")[0]} is not supported`);
    return await command.run(rest, io);
  } catch (err) {
    if (!(err instanceof BackplaneError)) throw err;
    io.err(`${PROG}: ${err.message}\n`);
    if (err instanceof UsageError) {
      io.err(`Try '${PROG} --help' for more information\n`);
      return 1;
    }
    if (name === "compare") return 2;
    return 1;
  }
}
