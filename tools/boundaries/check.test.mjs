import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { check } from "./check.mjs";

const exportsMap = { ".": { source: "./src/index.ts" }, "./testing": { source: "./src/testing.ts" } };

/** Writes a tiny monorepo: { "packages/x": { deps, files: { "src/a.ts": "..." } } }. */
function repo(spec) {
  const root = mkdtempSync(join(tmpdir(), "boundaries-"));
  for (const [dir, { deps = {}, devDeps = {}, files = {} }] of Object.entries(spec)) {
    const name = `@backplane/${dir.split("/")[1]}`;
    mkdirSync(join(root, dir, "src"), { recursive: true });
    writeFileSync(
      join(root, dir, "package.json"),
      JSON.stringify({ name, exports: exportsMap, dependencies: deps, devDependencies: devDeps }),
    );
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(root, dir, file, ".."), { recursive: true });
      writeFileSync(join(root, dir, file), text);
    }
  }
  return root;
}

const core = { "packages/core": { files: { "src/index.ts": "export type X = 1;\n" } } };
const uart = (text, extra = {}) => ({
  "packages/uart16550": { deps: { "@backplane/core": "*" }, files: { "src/index.ts": text }, ...extra },
});

describe("boundary check", () => {
  it("accepts a tree that follows the rules", () => {
    const root = repo({
      ...core,
      ...uart('import type { MmioDevice } from "@backplane/core";\nimport { x } from "./regs.js";\n', {
        devDeps: { "@backplane/testing": "*" },
        files: {
          "src/index.ts": 'import type { MmioDevice } from "@backplane/core";\n',
          "src/uart.test.ts":
            'import { readFileSync } from "node:fs";\nimport { IrqRecorder } from "@backplane/testing";\n',
        },
      }),
      "packages/testing": { deps: { "@backplane/core": "*" }, files: { "src/index.ts": "export {};\n" } },
      "packages/host-node": {
        deps: { "@backplane/core": "*" },
        files: { "src/index.ts": 'import { open } from "node:fs/promises";\nsetTimeout(() => {}, 1);\n' },
      },
    });
    expect(check(root)).toEqual([]);
  });

  it("fails on a device importing another device package (rule 1)", () => {
    const root = repo({
      ...core,
      ...uart('import { Plic } from "@backplane/plic";\n', {
        deps: { "@backplane/core": "*", "@backplane/plic": "*" },
      }),
      "packages/plic": { deps: { "@backplane/core": "*" }, files: { "src/index.ts": "export {};\n" } },
    });
    expect(check(root)).toEqual([
      expect.stringMatching(/@backplane\/uart16550 may not import @backplane\/plic/),
    ]);
  });

  it("fails when core gains a dependency", () => {
    const root = repo({
      "packages/core": { deps: { fflate: "*" }, files: { "src/index.ts": 'import "fflate";\n' } },
    });
    expect(check(root).join("\n")).toMatch(/core must have no dependencies/);
  });

  it("fails on Node APIs and host timers outside host packages (rule 2)", () => {
    expect(check(repo({ ...core, ...uart('import { readFile } from "node:fs";\n') }))).toEqual([
      expect.stringMatching(/'node:fs' is a Node API/),
    ]);
    expect(check(repo({ ...core, ...uart("export const t = () => setTimeout(() => {}, 5);\n") }))).toEqual([
      expect.stringMatching(/host global/),
    ]);
    expect(check(repo({ ...core, ...uart("export const t = Date.now();\n") }))).toEqual([
      expect.stringMatching(/host global/),
    ]);
    const imageStamp = {
      "packages/disk-vhd": {
        deps: { "@backplane/core": "*" },
        files: { "src/index.ts": "export const t = Date.now();\n" },
      },
    };
    expect(check(repo({ ...core, ...imageStamp }))).toEqual([]);
    expect(check(repo({ ...core, ...uart('import path from "path";\n') }))).toEqual([
      expect.stringMatching(/'path' is a Node API/),
    ]);
  });

  it("fails on importing a machine (rule 3)", () => {
    const root = repo({
      ...core,
      ...uart('import { virt } from "@backplane/machine-riscv-virt";\n', {
        deps: { "@backplane/core": "*", "@backplane/machine-riscv-virt": "*" },
      }),
      "packages/machine-riscv-virt": { files: { "src/index.ts": "export {};\n" } },
    });
    expect(check(root).join("\n")).toMatch(/only apps may import @backplane\/machine-riscv-virt/);
    const app = repo({
      ...core,
      "packages/machine-riscv-virt": { files: { "src/index.ts": "export {};\n" } },
      "apps/cli": {
        deps: { "@backplane/machine-riscv-virt": "*" },
        files: { "src/main.ts": 'import { virt } from "@backplane/machine-riscv-virt";\n' },
      },
    });
    expect(check(app)).toEqual([]);
  });

  it("fails on deep imports, undeclared imports and cycles (rule 4)", () => {
    const deep = repo({ ...core, ...uart('import { x } from "@backplane/core/src/mmio.js";\n') });
    expect(check(deep)).toEqual([expect.stringMatching(/deep import '@backplane\/core\/src\/mmio.js'/)]);
    const subpath = repo({ ...core, ...uart('import { x } from "@backplane/core/testing";\n') });
    expect(check(subpath)).toEqual([]);
    const undeclared = repo({ ...core, ...uart('import { x } from "fflate";\n') });
    expect(check(undeclared)).toEqual([expect.stringMatching(/imports 'fflate' without declaring it/)]);
    const cyclic = repo({
      ...core,
      "packages/disk": { deps: { "@backplane/disk-raw": "*" }, files: {} },
      "packages/disk-raw": { deps: { "@backplane/disk": "*" }, files: {} },
    });
    expect(check(cyclic).join("\n")).toMatch(
      /dependency cycle: @backplane\/disk -> @backplane\/disk-raw -> @backplane\/disk/,
    );
  });

  it("fails on a package the policy does not know", () => {
    const root = repo({ ...core, "packages/mystery": { files: { "src/index.ts": "export {};\n" } } });
    expect(check(root)).toEqual([expect.stringMatching(/@backplane\/mystery has no entry/)]);
  });
});
