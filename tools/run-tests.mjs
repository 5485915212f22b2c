#!/usr/bin/env node
// Runs every package's type-check and tests through turbo, then adds up the
// vitest JSON reports each package leaves and prints one closing line:
// "N passed, N failed, N skipped". Exits with turbo's status.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const dirs = ["packages", "apps", "tools"]
  .flatMap((g) => (existsSync(join(root, g)) ? readdirSync(join(root, g)).map((d) => join(root, g, d)) : []))
  .filter((d) => statSync(d).isDirectory());
const reportOf = (dir) => join(dir, ".vitest-report.json");
for (const dir of dirs) rmSync(reportOf(dir), { force: true });

const turbo = spawnSync(
  "npx",
  ["turbo", "run", "typecheck", "test", "--concurrency=2", "--continue", ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
  },
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of dirs) {
  if (!existsSync(reportOf(dir))) continue;
  const r = JSON.parse(readFileSync(reportOf(dir), "utf8"));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
const status = turbo.status ?? 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status !== 0 ? status : failed > 0 ? 1 : 0);
