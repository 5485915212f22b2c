#!/usr/bin/env node
// Creates a new library package under packages/<name> with the shared build,
// test and lint setup. Usage:
//   node tools/scaffold/new-package.mjs <name> "<description>" [dep ...]
// Deps are other @backplane package names (without the scope).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [name, description, ...deps] = process.argv.slice(2);
if (!name || !description) {
  console.error('usage: new-package.mjs <name> "<description>" [dep ...]');
  process.exit(2);
}
const dir = join(import.meta.dirname, "..", "..", "packages", name);
if (existsSync(dir)) {
  console.error(`packages/${name} already exists`);
  process.exit(1);
}
mkdirSync(join(dir, "src"), { recursive: true });
const pkg = {
  name: `@backplane/${name}`,
  version: "0.0.0",
  description,
  license: "MIT",
  type: "module",
  sideEffects: false,
  engines: { node: ">=20.11" },
  files: ["dist", "src", "!src/**/*.test.ts"],
  main: "./dist/index.cjs",
  module: "./dist/index.js",
  types: "./dist/index.d.ts",
  exports: {
    ".": {
      source: "./src/index.ts",
      import: { types: "./dist/index.d.ts", default: "./dist/index.js" },
      require: { types: "./dist/index.d.cts", default: "./dist/index.cjs" },
    },
    "./package.json": "./package.json",
  },
  scripts: {
    build: "tsup",
    typecheck: "tsc --noEmit -p .",
    lint: "publint --strict && attw --pack . --profile node16",
    test: "vitest run --passWithNoTests",
  },
  dependencies: Object.fromEntries(deps.map((d) => [`@backplane/${d}`, "*"])),
};
const write = (f, s) => writeFileSync(join(dir, f), s);
write("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
write("tsconfig.json", '{ "extends": "@backplane/config/tsconfig.json", "include": ["src"] }\n');
write("tsup.config.ts", 'import { preset } from "@backplane/config/tsup";\n\nexport default preset();\n');
write("vitest.config.ts", 'import { preset } from "@backplane/config/vitest";\n\nexport default preset();\n');
write("src/index.ts", `/** @backplane/${name} — ${description} */\nexport {};\n`);
write("README.md", `# @backplane/${name}\n\n${description}\n`);
console.log(`created packages/${name}`);
