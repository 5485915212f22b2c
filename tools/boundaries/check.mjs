#!/usr/bin/env node
// Boundary check: enforces DESIGN.md rules 1-4 over packages/* and apps/*.
//  1. core imports nothing; each package imports only what policy.mjs allows
//     (its tests may also import what it declares in devDependencies);
//  2. only host packages touch node:*, DOM globals, host timers or the wall clock
//     (tests, benches and test fixtures may);
//  3. only apps import a machine, and nothing imports an app;
//  4. no dependency cycles, no deep imports (only subpaths in the target's
//     exports map), no imports that package.json does not declare.
// Usage: node tools/boundaries/check.mjs [repo-root]   (exit 1 on violations)
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative, resolve, sep } from "node:path";
import { allowedImports, appPackages, hostPackages, neverImported, wallClockPackages } from "./policy.mjs";

const SCOPE = "@backplane/";
const builtins = new Set(builtinModules);
const IMPORT_RE =
  /(?:^|[^.\w$])(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?["']([^"']+)["']|(?:^|[^.\w$])(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/gm;
const HOST_GLOBAL_RE =
  /\b(?:window|document|navigator|localStorage|sessionStorage|process|Buffer|require|__dirname)\b\s*[.([]|\b(?:setTimeout|setInterval|setImmediate|performance\.now)\b/;
const WALL_CLOCK_RE = /\b(?:Date\.now|new Date)\b/;

function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry === "dist" || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(c|m)?[jt]s$/.test(entry) && !entry.endsWith(".d.ts")) yield path;
  }
}

/** Test code may use test helpers and host APIs. */
function isTestFile(rel) {
  return (
    /(^|\/)(test|tests|test-support|bench|fixtures|peer)\//.test(rel) ||
    /\.(test|bench|spec)\.[cm]?[jt]s$/.test(rel)
  );
}

export function check(root) {
  const errors = [];
  const pkgs = new Map();
  for (const group of ["packages", "apps"]) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      const file = join(base, name, "package.json");
      if (!existsSync(file)) continue;
      const json = JSON.parse(readFileSync(file, "utf8"));
      const short = json.name?.startsWith(SCOPE) ? json.name.slice(SCOPE.length) : name;
      pkgs.set(short, { dir: join(base, name), json, short });
    }
  }

  for (const pkg of pkgs.values()) {
    const where = relative(root, pkg.dir) || ".";
    const policy = allowedImports[pkg.short];
    if (policy === undefined) {
      errors.push(`${where}: package @backplane/${pkg.short} has no entry in tools/boundaries/policy.mjs`);
      continue;
    }
    const deps = { ...pkg.json.dependencies, ...pkg.json.peerDependencies };
    const devDeps = pkg.json.devDependencies ?? {};
    if (pkg.short === "core" && Object.keys(deps).length > 0) {
      errors.push(`${where}: @backplane/core must have no dependencies`);
    }
    for (const file of sourceFiles(pkg.dir)) {
      const rel = relative(pkg.dir, file).split(sep).join("/");
      if (/(^|\/)[^/]*\.config\.[cm]?[jt]s$/.test(rel)) continue; // build tooling, from the root's devDependencies
      const test = isTestFile(rel);
      const src = stripComments(readFileSync(file, "utf8"));
      const at = `${relative(root, file)}`;
      for (const m of src.matchAll(IMPORT_RE)) {
        const spec = m[1] ?? m[2];
        if (spec.startsWith(".")) {
          if (!resolve(pkg.dir, rel, "..", spec).startsWith(pkg.dir + sep)) {
            errors.push(`${at}: relative import '${spec}' leaves the package`);
          }
          continue;
        }
        const bare = spec.startsWith("node:")
          ? spec
          : spec
              .split("/")
              .slice(0, spec.startsWith("@") ? 2 : 1)
              .join("/");
        if (spec.startsWith("node:") || builtins.has(bare)) {
          if (!test && !hostPackages.has(pkg.short)) {
            errors.push(`${at}: '${spec}' is a Node API; only host-* packages and apps may use it`);
          }
          continue;
        }
        if (bare.startsWith(SCOPE)) {
          const target = bare.slice(SCOPE.length);
          if (neverImported.has(target) && !appPackages.has(pkg.short))
            errors.push(`${at}: only apps may import ${bare} (a machine or an app)`);
          const allowed =
            policy === "any" ||
            policy.includes(target) ||
            (test && (bare in devDeps || target === pkg.short));
          if (!allowed) errors.push(`${at}: @backplane/${pkg.short} may not import ${bare}`);
          if (!(bare in deps) && !(test && bare in devDeps) && target !== pkg.short) {
            errors.push(`${at}: imports ${bare} without declaring it in package.json`);
          }
          const targetPkg = pkgs.get(target);
          const sub = `.${spec.slice(bare.length)}`;
          if (targetPkg && !(targetPkg.json.exports && sub in targetPkg.json.exports)) {
            errors.push(`${at}: deep import '${spec}' is not in ${bare}'s exports map`);
          }
          continue;
        }
        const rootDev = test || pkg.short === "cli";
        if (!(bare in deps) && !(bare in devDeps) && !rootDev) {
          errors.push(`${at}: imports '${bare}' without declaring it in package.json`);
        }
      }
      if (!test && !hostPackages.has(pkg.short)) {
        const wallClock = !wallClockPackages.has(pkg.short);
        const line = src
          .split("\n")
          .findIndex((l) => HOST_GLOBAL_RE.test(l) || (wallClock && WALL_CLOCK_RE.test(l)));
        if (line >= 0) {
          errors.push(
            `${at}: uses a host global (${src.split("\n")[line].trim()}); inject it through @backplane/core contracts instead`,
          );
        }
      }
    }
  }

  // Rule 4: no cycles among declared @backplane dependencies.
  const state = new Map();
  const visit = (name, path) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "active") {
      errors.push(
        `dependency cycle: ${[...path.slice(path.indexOf(name)), name].map((n) => SCOPE + n).join(" -> ")}`,
      );
      return;
    }
    state.set(name, "active");
    const pkg = pkgs.get(name);
    for (const dep of Object.keys(pkg?.json.dependencies ?? {})) {
      if (dep.startsWith(SCOPE) && pkgs.has(dep.slice(SCOPE.length)))
        visit(dep.slice(SCOPE.length), [...path, name]);
    }
    state.set(name, "done");
  };
  for (const name of pkgs.keys()) visit(name, []);
  return errors;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? join(import.meta.dirname, "..", ".."));
  const errors = check(root);
  for (const e of errors) console.error(`boundaries: ${e}`);
  if (errors.length > 0) process.exit(1);
  console.log("boundaries: ok");
}
