/**
 * getopt_long-style argument parsing with qemu-img's conventions: short
 * options may be grouped (`-qf raw`, `-fraw`), long options take `=value` or
 * the next argument and may be abbreviated to a unique prefix, options may
 * follow operands, and `--` ends options. Errors read like qemu-img's.
 */
import { InvalidArgumentError } from "@backplane/core";

/** Option table: short letters (`"f:"` takes a value) and long names mapped to a key, with or without a value. */
export interface OptionSpec {
  short: string;
  long?: Record<string, { key: string; value: boolean }>;
}

/** Parsed options in order (repeatable options keep every value) and the operands. */
export interface Parsed {
  options: { key: string; value: string | undefined }[];
  operands: string[];
}

/** A usage error: printed with a "Try ... --help" hint, exit status 1. */
export class UsageError extends InvalidArgumentError {}

export function parseArgs(argv: readonly string[], spec: OptionSpec): Parsed {
  const takes = new Map<string, boolean>();
  for (let i = 0; i < spec.short.length; i++) {
    const c = spec.short[i];
    if (c === ":") continue;
    takes.set(c, spec.short[i + 1] === ":");
  }
  const long = spec.long ?? {};
  const out: Parsed = { options: [], operands: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out.operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const exact = long[name];
      const matches = exact ? [name] : Object.keys(long).filter((n) => n.startsWith(name));
      if (matches.length !== 1) {
        throw new UsageError(
          matches.length > 1 ? `option '${arg}' is ambiguous` : `unrecognized option '${arg}'`,
        );
      }
      const opt = long[matches[0]];
      if (!opt.value) {
        if (eq >= 0) throw new UsageError(`option '--${matches[0]}' doesn't allow an argument`);
        out.options.push({ key: opt.key, value: undefined });
      } else if (eq >= 0) {
        out.options.push({ key: opt.key, value: arg.slice(eq + 1) });
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`missing argument for option '${arg}'`);
        out.options.push({ key: opt.key, value: argv[++i] });
      }
      continue;
    }
    if (arg.length > 1 && arg.startsWith("-")) {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j];
        const hasValue = takes.get(c);
        if (hasValue === undefined) throw new UsageError(`unrecognized option '-${c}'`);
        if (!hasValue) {
          out.options.push({ key: c, value: undefined });
          continue;
        }
        if (j + 1 < arg.length) out.options.push({ key: c, value: arg.slice(j + 1) });
        else if (i + 1 < argv.length) out.options.push({ key: c, value: argv[++i] });
        else throw new UsageError(`missing argument for option '-${c}'`);
        break;
      }
      continue;
    }
    out.operands.push(arg);
  }
  return out;
}

/** Convenience accessors over {@link Parsed}. */
export class Options {
  constructor(readonly parsed: Parsed) {}
  has(key: string): boolean {
    return this.parsed.options.some((o) => o.key === key);
  }
  /** The last value given for `key`. */
  get(key: string): string | undefined {
    let v: string | undefined;
    for (const o of this.parsed.options) if (o.key === key) v = o.value;
    return v;
  }
  all(key: string): string[] {
    return this.parsed.options.filter((o) => o.key === key).map((o) => o.value ?? "");
  }
  get operands(): string[] {
    return this.parsed.operands;
  }
}

/** Parses `-o key=value,key2=value2` lists (repeatable; `,,` escapes a comma). */
export function parseKeyValues(lists: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const list of lists) {
    // Split at single commas; ",," stands for a literal comma.
    const items: string[] = [""];
    for (let i = 0; i < list.length; i++) {
      if (list[i] !== ",") items[items.length - 1] += list[i];
      else if (list[i + 1] === ",") items[items.length - 1] += list[i++];
      else items.push("");
    }
    for (const item of items) {
      if (item === "") continue;
      const eq = item.indexOf("=");
      if (eq <= 0) throw new InvalidArgumentError(`Invalid option list: ${list}`);
      out[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  return out;
}

/** `--output` value: `human` (default) or `json`. */
export function outputFormat(opts: Options): "human" | "json" {
  const v = opts.get("output") ?? "human";
  if (v !== "human" && v !== "json")
    throw new InvalidArgumentError(`--output must be used with human or json as argument.`);
  return v;
}
