/**
 * Virtual time is deterministic: guest time follows retired instructions, so
 * two runs of a program whose output depends on timing print the same bytes,
 * and a different instructions-to-time ratio prints different ones (the
 * output really does depend on time).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CharBackend } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { VirtMachine } from "../src/index.js";
import { buildProgram, GCC, missingTools } from "../test-support/index.js";

const skip = missingTools(GCC);

function run(elf: string, nsPerInstruction?: number): string {
  const chunks: string[] = [];
  const console: CharBackend = {
    write: (data) => void chunks.push(Buffer.from(data).toString("latin1")),
    read: () => 0,
    onReadable: () => () => {},
  };
  const machine = new VirtMachine({ console, nsPerInstruction });
  machine.boot({ kernel: readFileSync(elf) });
  expect(machine.runSync(10_000_000)).toEqual({ code: 0, reset: false });
  return chunks.join("");
}

describe.skipIf(skip !== undefined)(`virtual time${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("repeats timing-dependent output byte for byte, and follows the instruction-to-time ratio", () => {
    const elf = buildProgram(join(import.meta.dirname, "timing.S")).elf;
    const first = run(elf);
    expect(first).toMatch(/^dt=[0-9a-f]+\npolls=[0-9a-f]+\n$/);
    expect(run(elf)).toBe(first);
    expect(run(elf, 40)).not.toBe(first);
  });
});
