// Test-only: boots Linux in a VM process (QEMU, or `backplane run` with the
// same flags), talks to its serial console over stdin/stdout, runs shell
// commands with their output and exit status captured between markers, and
// powers the machine off.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { DebianGuest } from "../../src/guest/index.js";

/** A VM process: the program and its arguments. */
export interface VmCommand {
  command: string;
  args: string[];
  cwd?: string;
}

export interface BootOptions extends VmCommand {
  /** Matched against the end of the console output: the shell is waiting. Default: BusyBox's "... # ". */
  prompt?: RegExp;
  /** From spawn to the prompt (default 5 minutes: a loaded CI machine is slow). */
  bootTimeoutMs?: number;
  /** Per command and for power-off (default 2 minutes). */
  commandTimeoutMs?: number;
  /** Lower the console log level to errors (`dmesg -n 1`) so kernel messages stay out of command output (default true). */
  quietKernel?: boolean;
}

export interface CommandResult {
  /** What the command printed, line endings normalised to "\n", without the final newline. */
  output: string;
  /** Its exit status (`$?`). */
  status: number;
}

export interface LinuxConsole {
  /** Console output from spawn to the prompt. */
  bootLog: string;
  /** Milliseconds from spawn to the prompt. */
  bootMs: number;
  /** Everything the VM printed so far. */
  log(): string;
  /** Types `command` at the shell and waits for it to finish. */
  run(command: string): Promise<CommandResult>;
  /** Types `poweroff -f` and returns the VM process's exit code. */
  poweroff(): Promise<number>;
  /** Kills the VM process if it is still running. */
  kill(): void;
}

/**
 * QEMU's flags for the cached Debian guest on `-M virt` (one hart, 256 MiB,
 * serial console on stdio), followed by `extra` (devices, drives). The same
 * flags drive `backplane run`.
 */
export function debianVirtFlags(guest: DebianGuest, extra: string[] = []): string[] {
  return [
    ...["-M", "virt", "-smp", "1", "-m", "256M", "-nographic"],
    ...["-bios", guest.firmware.jump, "-kernel", guest.kernel, "-initrd", guest.initrd],
    ...["-append", "console=ttyS0 earlycon=sbi"],
    ...extra,
  ];
}

const DEFAULT_PROMPT = /[#$] $/;
const MARK = "@@backplane";
/** ECMA-48 control sequences (ESC [ parameters final-byte). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the terminal's ESC
const CSI = /\x1b\[[0-9;?]*[@-~]/g;

function tail(text: string, lines = 40): string {
  return text.replaceAll("\r", "").split("\n").slice(-lines).join("\n");
}

/**
 * Spawns the VM and waits for the shell prompt on its console. Failures
 * (timeout, early exit) throw with the tail of the console log.
 */
export async function bootLinux(options: BootOptions): Promise<LinuxConsole> {
  const prompt = options.prompt ?? DEFAULT_PROMPT;
  const commandTimeout = options.commandTimeoutMs ?? 120_000;
  const started = performance.now();
  const child: ChildProcessWithoutNullStreams = spawn(options.command, options.args, {
    cwd: options.cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const decoder = new TextDecoder();
  let log = "";
  let exited: { code: number | null; signal: string | null } | undefined;
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const l of [...listeners]) l();
  };
  child.stdout.on("data", (chunk: Buffer) => {
    log += decoder.decode(chunk, { stream: true });
    changed();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    log += chunk.toString();
    changed();
  });
  const exit = new Promise<void>((resolve) => {
    const done = (code: number | null, signal: string | null) => {
      exited ??= { code, signal };
      changed();
      resolve();
    };
    child.on("exit", done);
    child.on("error", (err) => {
      log += `\n[spawn failed: ${err.message}]`;
      done(null, null);
    });
  });
  const kill = () => {
    if (!exited) child.kill("SIGKILL");
  };

  /** Resolves with `check`'s result once it is defined; rejects on timeout or VM exit. */
  const waitFor = <T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const finish = (err?: Error, value?: T) => {
        listeners.delete(poll);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value as T);
      };
      const poll = () => {
        const value = check();
        if (value !== undefined) finish(undefined, value);
        else if (exited) {
          finish(
            new Error(
              `VM exited (code ${exited.code}, signal ${exited.signal}) while waiting for ${what}; console:\n${tail(log)}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; console:\n${tail(log)}`));
      }, timeoutMs);
      listeners.add(poll);
      poll();
    });

  let bootMs: number;
  try {
    // The prompt must have been the last thing printed at some moment, not
    // counting terminal control sequences (BusyBox asks for the cursor
    // position, ESC [ 6 n, after each prompt).
    await waitFor("the shell prompt", options.bootTimeoutMs ?? 300_000, () =>
      prompt.test(log.replace(CSI, "")) ? true : undefined,
    );
    bootMs = performance.now() - started;
  } catch (err) {
    kill();
    throw err;
  }
  const bootLog = log;

  let serial = 0;
  const run = async (command: string): Promise<CommandResult> => {
    const n = ++serial;
    const from = log.length;
    // One typed line, so the tty never echoes input in the middle of output.
    // Its echo has quotes inside the markers: only the shell's output matches.
    child.stdin.write(`echo ${MARK}"-begin-${n}@@"; ${command}; echo ${MARK}"-end-${n}-$?@@"\n`);
    const begin = `${MARK}-begin-${n}@@\n`;
    const end = new RegExp(`${MARK}-end-${n}-(\\d+)@@`);
    return waitFor(`the end of '${command}'`, commandTimeout, () => {
      const text = log.slice(from).replaceAll("\r", "");
      const at = text.indexOf(begin);
      const close = end.exec(text);
      if (at < 0 || !close) return undefined;
      const output = text.slice(at + begin.length, close.index).replace(/\n$/, "");
      return { output, status: Number(close[1]) };
    });
  };

  const session: LinuxConsole = {
    bootLog,
    bootMs,
    log: () => log,
    run,
    async poweroff() {
      child.stdin.write("poweroff -f\n");
      await waitFor("power-off", commandTimeout, () => (exited ? true : undefined)).catch((err) => {
        kill();
        throw err;
      });
      await exit;
      if (exited?.code === null || exited?.code === undefined)
        throw new Error(`VM ended by signal ${exited?.signal}; console:\n${tail(log)}`);
      return exited.code;
    },
    kill,
  };
  if (options.quietKernel ?? true) {
    try {
      await run("dmesg -n 1");
    } catch (err) {
      kill();
      throw err;
    }
  }
  return session;
}
