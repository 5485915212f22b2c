/** Unit tests of the qemu-img-style option parser and size helpers (expected strings are qemu-img 7.2's own output). */
import { InvalidArgumentError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { parseArgs, parseKeyValues, UsageError } from "../src/img/args.js";
import { formatSize, parseSize } from "../src/img/size.js";

const spec = {
  short: ":f:hq",
  long: {
    output: { key: "output", value: true },
    "output-format": { key: "of", value: true },
    shrink: { key: "shrink", value: false },
  },
};

describe("parseArgs", () => {
  it("groups short flags, attaches values and stops at --", () => {
    expect(parseArgs(["-qfraw", "a", "--", "-q"], spec)).toEqual({
      options: [
        { key: "q", value: undefined },
        { key: "f", value: "raw" },
      ],
      operands: ["a", "-q"],
    });
  });

  it("takes exact long names over prefixes and rejects ambiguous or misused ones", () => {
    expect(parseArgs(["--output=json"], spec).options).toEqual([{ key: "output", value: "json" }]);
    expect(parseArgs(["--sh"], spec).options).toEqual([{ key: "shrink", value: undefined }]);
    expect(() => parseArgs(["--out=json"], spec)).toThrow("option '--out=json' is ambiguous");
    expect(() => parseArgs(["--shrink=yes"], spec)).toThrow(UsageError);
    expect(() => parseArgs(["-x"], spec)).toThrow("unrecognized option '-x'");
  });
});

describe("parseKeyValues", () => {
  it("splits at single commas, keeps ',,' as a comma and merges repeated -o", () => {
    expect(parseKeyValues(["a=1,b=x,,y", "c=3"])).toEqual({ a: "1", b: "x,y", c: "3" });
    expect(() => parseKeyValues(["novalue"])).toThrow(InvalidArgumentError);
  });
});

describe("sizes", () => {
  it("parses suffixes as powers of 1024 and refuses fractions of a byte", () => {
    expect(parseSize("1.5k")).toBe(1536);
    expect(parseSize("2G")).toBe(2 ** 31);
    expect(parseSize("512b")).toBe(512);
    expect(() => parseSize("1.5")).toThrow(InvalidArgumentError);
    expect(() => parseSize("0.1k")).toThrow(InvalidArgumentError);
    expect(() => parseSize("12Q")).toThrow(InvalidArgumentError);
  });

  it("prints like qemu's size_to_str", () => {
    // Expected strings: `qemu-img info` of raw images of these sizes (QEMU 7.2).
    expect(formatSize(1024)).toBe("1 KiB");
    expect(formatSize(331776)).toBe("324 KiB");
    expect(formatSize(1449984)).toBe("1.38 MiB");
    expect(formatSize(4212736)).toBe("4.02 MiB");
    expect(formatSize(1079296)).toBe("1.03 MiB");
    expect(formatSize(0)).toBe("0 B");
  });
});
