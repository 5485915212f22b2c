/**
 * QEMU's option-string syntax for -drive, -device and -netdev (QEMU 7.2
 * docs/system/invocation.rst, util/qemu-option.c): comma-separated
 * `key=value` pairs, `,,` for a literal comma, an optional leading value for
 * an implied key (the device model of -device, the type of -netdev), and a
 * bare `key` meaning `key=on`.
 */
import { InvalidArgumentError } from "@backplane/core";

/** One option string, with the flag it came from for error messages. */
export class QemuOpts {
  readonly values = new Map<string, string>();

  /** Parses `text` given to `flag`; a leading element without `=` is the value of `implied`. */
  constructor(
    readonly flag: string,
    readonly text: string,
    implied?: string,
  ) {
    const parts: string[] = [""];
    for (let i = 0; i < text.length; i++) {
      if (text[i] === "," && text[i + 1] === ",") {
        parts[parts.length - 1] += ",";
        i++;
      } else if (text[i] === ",") parts.push("");
      else parts[parts.length - 1] += text[i];
    }
    parts.forEach((part, i) => {
      const eq = part.indexOf("=");
      if (eq < 0 && i === 0 && implied) this.values.set(implied, part);
      else if (eq < 0) {
        if (part === "") throw this.error("empty option (stray comma?)");
        this.values.set(part, "on");
      } else if (eq === 0) throw this.error(`option '${part}' has no name`);
      else this.values.set(part.slice(0, eq), part.slice(eq + 1));
    });
  }

  /** An error naming the flag and its argument, like QEMU's. */
  error(message: string): InvalidArgumentError {
    return new InvalidArgumentError(`${this.flag} ${this.text}: ${message}`);
  }

  /** Fails on any key not in `known`. */
  only(known: readonly string[]): this {
    for (const key of this.values.keys()) {
      if (!known.includes(key)) throw this.error(`unsupported parameter '${key}'`);
    }
    return this;
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  require(key: string): string {
    const v = this.values.get(key);
    if (v === undefined || v === "") throw this.error(`parameter '${key}' is missing`);
    return v;
  }

  /** A boolean option: on/off, yes/no, true/false (default `fallback`). */
  bool(key: string, fallback = false): boolean {
    const v = this.values.get(key);
    if (v === undefined) return fallback;
    if (["on", "yes", "true"].includes(v)) return true;
    if (["off", "no", "false"].includes(v)) return false;
    throw this.error(`parameter '${key}' expects 'on' or 'off', not '${v}'`);
  }
}
